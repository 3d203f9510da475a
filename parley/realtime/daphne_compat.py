"""Let Daphne close a socket with the protocol's 1009 ("message too big").

Daphne hands an ASGI ``websocket.close`` to Autobahn's ``sendClose``, which accepts only 1000 and
3000-4999 from an application, so a 1009 raised an exception and the client saw 1011 instead
(found by the end-to-end tests). Autobahn's own ``sendCloseFrame`` sends any code; this routes the
standard codes an application may legitimately send through it. Uvicorn needs no help.
"""

from __future__ import annotations

from typing import Any

# RFC 6455 codes an endpoint may send on its own behalf besides 1000.
STANDARD_APPLICATION_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011})


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

    server_close.parley_patched = True  # type: ignore[attr-defined]
    WebSocketProtocol.serverClose = server_close
