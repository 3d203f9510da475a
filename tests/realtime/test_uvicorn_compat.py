"""The direct writer declines in every state of a Uvicorn connection that is not plainly open.

``TransportWriter.write`` asks three questions (``close_sent``, flow control, a closing transport)
and leaves the WebSocket state and ``disconnected`` out, on the ground that Uvicorn marks every
other way a connection ends with one of the first two. These tests hold it to that: a real
``WebSocketsSansIOProtocol`` on a real event-loop transport (one end of a socket pair), driven by a
client speaking the protocol through ``websockets``' sans-I/O client, into each of those states.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from parley.realtime.uvicorn_compat import TransportWriter, text_frame, transport_writer


@dataclass
class Connection:
    """One accepted Uvicorn WebSocket connection, its direct writer, and the client's end."""

    protocol: WebSocketsSansIOProtocol
    writer: TransportWriter
    send: Any
    client: ClientProtocol
    client_socket: socket.socket

    async def client_sends(self, data: bytes) -> None:
        """Bytes from the client, once the server has read them."""
        self.client_socket.sendall(data)
        await settle()

    def frames_received(self) -> list[Frame]:
        """The frames the client has been sent so far."""
        try:
            while chunk := self.client_socket.recv(65536):
                self.client.receive_data(chunk)
        except BlockingIOError:
            pass
        return [event for event in self.client.events_received() if isinstance(event, Frame)]


async def settle() -> None:
    """Let the event loop run the callbacks that are due (reads, closes, connection_lost)."""
    for _ in range(5):
        await asyncio.sleep(0.01)


@pytest.fixture
async def connection() -> AsyncIterator[Connection]:
    accepted: asyncio.Queue[Any] = asyncio.Queue()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await accepted.put(send)
        while (await receive())["type"] != "websocket.disconnect":
            pass

    config = Config(app=app, ws="websockets-sansio", ws_per_message_deflate=False, ws_ping_interval=None)
    config.load()
    server_socket, client_socket = socket.socketpair()
    protocol = WebSocketsSansIOProtocol(config, ServerState(), app_state={})
    await asyncio.get_running_loop().connect_accepted_socket(lambda: protocol, server_socket)
    client = ClientProtocol(parse_uri("ws://parley.test/ws/"))
    client.send_request(client.connect())
    client_socket.sendall(b"".join(client.data_to_send()))
    send = await asyncio.wait_for(accepted.get(), 5)
    client_socket.setblocking(False)
    writer = transport_writer(send)
    assert writer is not None
    found = Connection(protocol, writer, send, client, client_socket)
    found.frames_received()  # the handshake's answer
    assert client.state is State.OPEN
    yield found
    client_socket.close()
    await settle()


async def test_an_open_connection_is_written_to(connection):
    assert connection.writer.write(text_frame("hello"))
    assert [frame.data for frame in connection.frames_received()] == [b"hello"]


async def test_nothing_is_written_after_the_application_sent_its_close_frame(connection):
    await connection.send({"type": "websocket.close", "code": 4408})
    assert not connection.protocol.transport.is_closing()  # open for the client's answer
    assert not connection.writer.write(text_frame("late"))
    assert [frame.opcode for frame in connection.frames_received()] == [Opcode.CLOSE]


async def test_nothing_is_written_after_the_client_closed(connection):
    connection.client.send_close(1000)
    await connection.client_sends(b"".join(connection.client.data_to_send()))
    assert connection.protocol.conn.state is not State.OPEN
    assert not connection.writer.write(text_frame("late"))


async def test_nothing_is_written_after_the_client_broke_the_protocol(connection):
    # An unmasked frame from a client is a protocol error: Uvicorn fails the connection.
    await connection.client_sends(Frame(Opcode.TEXT, b"unmasked").serialize(mask=False))
    assert connection.protocol.conn.state is not State.OPEN
    assert not connection.writer.write(text_frame("late"))


async def test_nothing_is_written_after_the_connection_was_lost(connection):
    connection.client_socket.close()
    await settle()
    assert connection.protocol.disconnected
    assert not connection.writer.write(text_frame("late"))


async def test_a_transport_paused_by_flow_control_declines_until_it_drains(connection):
    """A client that stops reading: the writer declines (its outbox queues and limits) from the
    moment the transport pauses, and writes again once it has drained."""
    frame = text_frame("x" * 60_000)
    writes = 0
    while connection.writer.write(frame):
        writes += 1
        assert writes < 1_000, "the transport never paused"
    assert not connection.protocol.writable.is_set()
    assert not connection.writer.write(frame)
    while not connection.protocol.writable.is_set():
        connection.frames_received()
        await asyncio.sleep(0.01)
    assert connection.writer.write(text_frame("after"))
