"""Typed errors: one class per ``error`` code of the protocol, and the client's own endings.

Every error is a ``ParleyError`` with the server's ``code`` and ``detail`` (a sentence for people),
and ``retry_after`` (seconds) when the server gave one, so a caller can catch them all at once or
one kind at a time::

    try:
        await client.send("lobby", text)
    except NotFound:
        ...  # no such room, or a private room we are not a member of
    except ParleyError as error:
        print(error.code, error.detail)
"""

from __future__ import annotations

from parley_client.frames import Error


class ParleyError(Exception):
    """An error the server answered with, or the reason the client stopped."""

    def __init__(
        self, code: str, detail: str, *, retry_after: float | None = None, close_code: int | None = None
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        # The WebSocket close code that ended the client, for the errors that come with one.
        self.close_code = close_code


class InvalidFrame(ParleyError):
    """``invalid``: the frame was malformed or a field was out of range (a bad slug, a blank body)."""


class Forbidden(ParleyError):
    """``forbidden``: this identity may not do that (a guest reacting, someone else's message)."""


class NotFound(ParleyError):
    """``not_found``: no such room or message, or a private room this identity is not a member of."""


class TooLarge(ParleyError):
    """``too_large``: a body over the server's limit, or too many rooms followed on one socket."""


class RateLimited(ParleyError):
    """``rate_limited``: over a rate limit. The client waits ``retry_after`` and retries by itself,
    so callers see this only from a ``ParleyError`` the server sent with no request to retry."""


class Unavailable(ParleyError):
    """``unavailable``: the server's database could not be reached; nothing was stored."""


class InternalError(ParleyError):
    """``internal``: the server failed; nothing was stored half-way."""


class Unauthorized(ParleyError):
    """The server closed the socket with 4401: the token is unknown or was revoked, or the
    account was deactivated. The client does not reconnect; ``detail`` is the server's reason."""


class HandshakeRefused(ParleyError):
    """The server refused the WebSocket handshake with an HTTP status (a wrong URL, a refused
    ``Origin``); reconnecting would not help, so the client stops."""


class ClientClosed(ParleyError):
    """The client was closed (``close()``) before the request was answered."""


ERRORS: dict[str, type[ParleyError]] = {
    "invalid": InvalidFrame,
    "forbidden": Forbidden,
    "not_found": NotFound,
    "too_large": TooLarge,
    "rate_limited": RateLimited,
    "unavailable": Unavailable,
    "internal": InternalError,
}


def error_from_frame(frame: Error) -> ParleyError:
    """The typed exception for an ``error`` frame."""
    return error_of(frame.code, frame.detail, retry_after=frame.retry_after)


def error_of(code: str, detail: str, *, retry_after: float | None = None) -> ParleyError:
    """The typed exception for an error ``code`` (``ParleyError`` itself for a code this client does
    not know yet), from a frame or an HTTP API answer, which share their codes."""
    cls = ERRORS.get(code, ParleyError)
    return cls(code, detail, retry_after=retry_after)
