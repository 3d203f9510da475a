"""Uvicorn: write live frames straight to the socket's transport, framed once per event, and let
go of the handshake once the socket is open.

A live message goes to every subscriber of a room. Through ASGI, each of those sends is a
coroutine, a message dict, a UTF-8 encoding of the same text and a WebSocket frame built anew,
socket by socket; the hub already has the text, so it can frame it once and hand the same bytes
to every transport. That is what a bare broadcast server does, and what the fan-out ceiling is
measured against.

Only Uvicorn's sans-I/O WebSocket protocol (its default with the ``websockets`` package) is
recognised, and only for connections without a negotiated extension: permessage-deflate keeps
per-connection compression state, so such sockets, and every other server, keep the ASGI
``send``. Whenever the connection is not plainly open and writable — closing, closed, or paused
by flow control — the writer declines and the caller falls back to ``send``, which knows what to
do in each of those states.

The writer runs once per socket per live message, so it asks only what tells those states apart
(three questions rather than five: ``tests/realtime/test_uvicorn_compat.py`` drives a real Uvicorn
protocol through each state and checks that the writer declines in it).

Uvicorn's protocol also keeps the handshake's request and response (``websockets``' ``Request`` and
``Response``, each with its ``Headers``) for the socket's whole life, though it reads them only
until the response is sent: about 4 KB of an idle socket's 30. ``release_handshake`` drops
them, and empties the request's headers, once the handshake is complete. The ASGI scope's own
copy of the request headers is left alone: the application and its middleware may read it.
"""

from __future__ import annotations

from typing import Any

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode


def text_frame(text: str) -> bytes:
    """A complete, unmasked WebSocket text frame (what a server sends) carrying ``text``."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class TransportWriter:
    """Writes ready-made frames to one Uvicorn connection's transport."""

    __slots__ = ("_protocol", "_transport", "_writable")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport = protocol.transport
        self._writable = protocol.writable

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` now and return True, or return False and write nothing.

        Uvicorn leaves a connection that is no longer open in one of two marks, set in the same
        callback that ends it: ``close_sent`` when the application sent its close frame (the
        transport stays open for the client's answer), or a closing transport otherwise (the
        client's close frame, a protocol error, a missed keepalive, a lost connection, a server
        shutdown). So those two, and flow control's ``writable``, are all there is to ask: the
        WebSocket state and ``disconnected`` follow from them.
        """
        if self._protocol.close_sent or not self._writable.is_set() or self._transport.is_closing():
            return False
        self._transport.write(frame)
        return True

    def backlog(self) -> int:
        """Bytes the transport still holds for a client that reads slower than it is sent to."""
        return int(self._transport.get_write_buffer_size())


def _sansio_protocol(send: Any) -> Any | None:
    """The Uvicorn protocol behind an ASGI ``send``, when it is the sans-I/O one."""
    protocol = getattr(send, "__self__", None)
    if protocol is None or type(protocol).__name__ != "WebSocketsSansIOProtocol":
        return None
    return protocol


def release_handshake(send: Any) -> None:
    """Let the connection behind an ASGI ``send`` drop its handshake request and response.

    Call it once the socket is accepted. Uvicorn reads ``response`` only while the handshake is
    incomplete (to add the application's headers and send it) and never reads ``request``; once
    ``handshake_complete`` is set, neither is read again. Any other server, or a handshake Uvicorn
    has not completed, is left as it is.
    """
    protocol = _sansio_protocol(send)
    if protocol is None or getattr(protocol, "handshake_complete", False) is not True:
        return
    headers = getattr(getattr(protocol, "request", None), "headers", None)
    if isinstance(headers, Headers):
        # ``websockets``' parser keeps the request too, in a local of its generator that lives as
        # long as the connection, past any use of it: only emptying its headers frees them.
        headers.clear()
    for name in ("request", "response"):
        if getattr(protocol, name, None) is not None:
            setattr(protocol, name, None)


def transport_writer(send: Any) -> TransportWriter | None:
    """A direct writer for the connection behind an ASGI ``send``, when it can have one.

    Call it after the handshake: the extensions are known then.
    """
    protocol = _sansio_protocol(send)
    if protocol is None:
        return None
    conn = getattr(protocol, "conn", None)
    if conn is None or getattr(conn, "extensions", None) != [] or getattr(protocol, "transport", None) is None:
        return None
    if not all(hasattr(protocol, name) for name in ("close_sent", "disconnected", "writable")):
        return None
    return TransportWriter(protocol)
