"""A client that stops reading is closed with 4408 and never slows the others (docs/architecture.md).

The stalled client is a raw TCP socket with a small receive buffer that, after subscribing, is
not read at all, so nothing on the client's side drains it. The kernel still buffers a few
megabytes on the server's side, so the room is flooded with large (16 KB) frames until far more
than that, and the socket buffer limit (64 KiB here), has been written.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Close, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from tests.e2e.client import TIMEOUT, Client, Connect
from tests.e2e.site import RoomSpec, Site
from tests.frames import received_frame
from tests.servers import NO_RATE_LIMITS, ServerProcess

pytestmark = [pytest.mark.e2e]

FLOOD = 300
BODY = "\N{GRINNING FACE}" * 4000  # 4000 characters, 16000 bytes


class StalledReader:
    """A protocol v1 client that subscribes to a room and then stops reading its socket."""

    def __init__(self, sock: socket.socket, protocol: ClientProtocol) -> None:
        self.sock = sock
        self.protocol = protocol
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def subscribe(cls, server: ServerProcess, room: str) -> StalledReader:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        reader = cls(sock, ClientProtocol(parse_uri(f"{server.ws_url}/ws/?name=stalled")))
        await asyncio.wait_for(reader.loop.sock_connect(sock, ("127.0.0.1", server.port)), TIMEOUT)
        reader.protocol.send_request(reader.protocol.connect())
        await reader.flush()
        while reader.protocol.state is not State.OPEN:
            assert await reader.receive(), "the handshake did not complete"
        reader.protocol.send_text(json.dumps({"type": "subscribe", "room": room}).encode())
        await reader.flush()
        texts, _ = await reader.read(until_text=True)
        assert json.loads(texts[0])["type"] == "subscribed"
        return reader

    async def flush(self) -> None:
        await self.loop.sock_sendall(self.sock, b"".join(self.protocol.data_to_send()))

    async def receive(self) -> bool:
        """Feed the next bytes from the socket to the protocol; False at end of stream or timeout."""
        try:
            data = await asyncio.wait_for(self.loop.sock_recv(self.sock, 65536), TIMEOUT)
        except TimeoutError:
            return False
        if not data:
            return False
        self.protocol.receive_data(data)
        return True

    async def read(self, *, until_text: bool = False) -> tuple[list[str], int | None]:
        """Read text frames until the server closes (or, with ``until_text``, until the first one)."""
        texts: list[str] = []
        while await self.receive():
            for event in self.protocol.events_received():
                if getattr(event, "opcode", None) is Opcode.CLOSE:
                    return texts, Close.parse(event.data).code
                if getattr(event, "opcode", None) is Opcode.TEXT:
                    texts.append(event.data.decode())
                    received_frame(texts[-1])
            if until_text and texts:
                break
        return texts, None

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def site(site_factory) -> Site:
    return site_factory(rooms=(RoomSpec("flood-daphne", guests=True), RoomSpec("flood-uvicorn", guests=True)))


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_a_client_that_stops_reading_is_closed_4408_and_slows_nobody(site: Site, connect: Connect, kind):
    server = site.start(kind, PARLEY_SOCKET_BUFFER="65536", **NO_RATE_LIMITS)  # a flood, on purpose
    try:
        room = f"flood-{kind}"
        stalled = await StalledReader.subscribe(server, room)
        fast = await connect(server, name="fast")
        assert (await fast.request({"type": "subscribe", "room": room}))["type"] == "subscribed"
        sender = await connect(server, name="sender")
        await flood(sender, fast, room)

        texts, code = await stalled.read()
        stalled.close()
        assert code == 4408, f"the stalled reader was never closed; it got all {len(texts)} frames"
        assert len(texts) < FLOOD
    finally:
        server.stop()


async def flood(sender: Client, reader: Client, room: str) -> None:
    """Post FLOOD large messages, and check that ``reader`` gets each one meanwhile."""
    for start in range(0, FLOOD, 20):
        batch = range(start, start + 20)
        for i in batch:
            await sender.send({"type": "send", "room": room, "body": BODY, "client_id": f"flood-{i}"})
        assert [(await sender.recv())["type"] for _ in batch] == ["ack"] * len(batch)
        assert [(await reader.recv())["seq"] for _ in batch] == [i + 1 for i in batch]
