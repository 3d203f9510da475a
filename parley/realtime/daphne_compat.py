"""Where Daphne needs help to keep Parley's promises: close codes, slow readers, streamed downloads.

Close codes: let Daphne close a socket with the protocol's 1009 ("message too big"). Slow readers:
``transport_backlog`` tells a socket's outbox what Twisted still holds. Streamed downloads:
``pace_http_responses`` makes a response body wait for a slow client, as Uvicorn does.

Daphne hands an ASGI ``websocket.close`` to Autobahn's ``sendClose``, which accepts only 1000 and
3000-4999 from an application, so a 1009 raised an exception and the client saw 1011 instead
(found by the end-to-end tests). Autobahn's own ``sendCloseFrame`` sends any code; this routes the
standard codes an application may legitimately send through it. Uvicorn needs no help.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

# RFC 6455 codes an endpoint may send on its own behalf besides 1000.
STANDARD_APPLICATION_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011})
# Closed for not reading: see ``_close_slow_client``.
CLOSE_TOO_SLOW = 4408
# How long a client that stopped reading has to take what was written to it before the
# connection is cut, freeing its buffer.
SLOW_CLIENT_GRACE_SECONDS = 30.0


def allow_standard_close_codes() -> None:
    """Patch Daphne's ``serverClose`` once, if Daphne is installed."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return
    if getattr(WebSocketProtocol.serverClose, "parley_patched", False):
        return
    original = WebSocketProtocol.serverClose

    def server_close(self: Any, code: int | None = None) -> None:
        if code in STANDARD_APPLICATION_CLOSE_CODES:
            self.sendCloseFrame(code=code)
        else:
            original(self, code)
        if code == CLOSE_TOO_SLOW:
            _close_slow_client(self)

    server_close.parley_patched = True  # type: ignore[attr-defined]
    WebSocketProtocol.serverClose = server_close


def _close_slow_client(protocol: Any) -> None:
    """Let a client that stopped reading still receive its 4408.

    The close frame sits behind the client's backlog. Autobahn would abort the TCP connection
    once its close-handshake timeout (1 s) passed, discarding backlog and close frame alike, so
    the client would see a reset instead of 4408. Instead: finish writing, then close; and cut
    the connection only if the client still has not read it all after a grace period.
    """
    from twisted.internet import reactor as twisted_reactor

    reactor: Any = twisted_reactor  # the installed reactor; its module-level stub is not the instance

    if protocol.closeHandshakeTimeoutCall is not None:
        protocol.closeHandshakeTimeoutCall.cancel()
        protocol.closeHandshakeTimeoutCall = None
    protocol.transport.loseConnection()
    reactor.callLater(SLOW_CLIENT_GRACE_SECONDS, protocol.transport.abortConnection)


def transport_backlog(send: Any) -> Callable[[], int] | None:
    """On Daphne, a probe for how many bytes a socket's transport still has to write; else None.

    Daphne accepts every ``websocket.send`` at once and queues the bytes in Twisted's unbounded
    write buffer, so a client that stops reading never makes ``send`` wait and the outbox never
    fills (found by tests/e2e/test_slow_reader.py). Daphne's ASGI ``send`` is a ``partial`` over
    the connection's protocol object, whose Twisted transport knows its backlog.
    """
    if not isinstance(send, partial) or not send.args:
        return None
    transport = getattr(send.args[0], "transport", None)
    if transport is None or not hasattr(transport, "_tempDataLen"):
        return None

    return partial(_backlog, transport)


def _backlog(transport: Any) -> int:
    """Bytes a Twisted transport has been given and not written to its socket yet."""
    return int(len(transport.dataBuffer) - transport.offset + transport._tempDataLen)


# What an HTTP response may have waiting in Twisted's buffer before the application's next piece
# waits for the client to read (``pace_http_responses``).
HTTP_BACKLOG_BYTES = 1 << 20
HTTP_DRAIN_POLL_SECONDS = 0.01


def pace_http_responses() -> None:
    """Make Daphne's ``send`` of a response's body wait while the client has more than
    ``HTTP_BACKLOG_BYTES`` to read, as Uvicorn's does; patched once, if Daphne is installed.

    Daphne accepts every ``http.response.body`` at once and Twisted buffers it: a streamed
    download (a room's export) to a client slower than the database grew the server by what the
    client had not read yet, 34 MiB of a 41.6 MB archive at 2 MB/s (bench/export_rss.py).
    """
    try:
        from daphne.server import Server
    except ImportError:
        return
    if getattr(Server.handle_reply, "parley_patched", False):
        return
    original = Server.handle_reply

    async def handle_reply(self: Any, protocol: Any, message: dict[str, Any]) -> None:
        await original(self, protocol, message)
        if message.get("type") == "http.response.body" and message.get("more_body"):
            await _drained(self, protocol)

    handle_reply.parley_patched = True  # type: ignore[attr-defined]
    Server.handle_reply = handle_reply


async def _drained(server: Any, protocol: Any) -> None:
    """Return once the response's transport holds at most ``HTTP_BACKLOG_BYTES``, or the client left."""
    transport = getattr(getattr(protocol, "channel", None), "transport", None)
    if transport is None or not hasattr(transport, "_tempDataLen"):
        return
    while _backlog(transport) > HTTP_BACKLOG_BYTES:
        connection = server.connections.get(protocol)
        if connection is None or connection.get("disconnected") or protocol.finished:
            return
        # Twisted writes from the same asyncio loop (Daphne's reactor): yielding lets it drain.
        await asyncio.sleep(HTTP_DRAIN_POLL_SECONDS)
