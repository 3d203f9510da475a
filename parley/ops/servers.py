"""Uvicorn that closes half-open requests: the HTTP protocol and Gunicorn worker class Parley runs with.

Uvicorn waits for a request's header as long as the client keeps the connection open: its only
timeout, ``--timeout-keep-alive``, runs between requests and stops at the first byte of the next.
A client that opens connections and sends half a request header (slow-loris) holds a socket and a
file descriptor each, for hours. ``HeaderTimeoutProtocol`` gives every request's header
``PARLEY_HEADER_TIMEOUT`` seconds (default 10) from the connection's opening or the request's
first byte; a header still incomplete then is answered ``408`` and the connection closed. Once a
header is complete the request (or the WebSocket it upgrades to) runs as before.

    uvicorn config.asgi:application --http parley.ops.servers:HeaderTimeoutProtocol
    gunicorn -c deploy/gunicorn.conf.py config.asgi:application   # worker_class = UvicornWorker below
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker as _UvicornWorker

from parley.conf import parley_settings

_TIMEOUT_BODY = b"The request's header did not arrive in time.\n"
REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


def header_timeout() -> float:
    """Seconds a request's header may take to arrive (``PARLEY_HEADER_TIMEOUT``)."""
    return float(parley_settings.HEADER_TIMEOUT)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol, closing connections whose request header comes too slowly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout()
        self.header_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self.header_deadline is None and self.header_timeout > 0:
            self.header_deadline = self.loop.call_later(self.header_timeout, self.header_timed_out)

    def _disarm(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Called when a client connects: its first request's header is due within the timeout."""
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        """Called at a request's first byte: its header is due within the timeout."""
        self._arm()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        """Called when a request's header is complete: the request runs without this limit."""
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Called when the connection closes."""
        self._disarm()
        super().connection_lost(exc)

    def header_timed_out(self) -> None:
        """Answer 408 and close: the client has not sent a whole request header in time."""
        self.header_deadline = None
        if not self.transport.is_closing():
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
            self.transport.close()


# uvicorn-worker ships no type information: its worker class is Any to mypy.
class UvicornWorker(_UvicornWorker):  # type: ignore[misc]
    """Gunicorn's Uvicorn worker with ``HeaderTimeoutProtocol`` (``deploy/gunicorn.conf.py``)."""

    CONFIG_KWARGS: dict[str, Any] = {**_UvicornWorker.CONFIG_KWARGS, "http": "parley.ops.servers:HeaderTimeoutProtocol"}
