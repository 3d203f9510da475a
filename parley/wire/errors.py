"""One application error for every refusal, whichever transport carried the request.

A service raises ``ParleyError`` (or a subclass naming the kind of refusal) with one of the
protocol's codes and a sentence a person can act on. Each transport translates it once: the
socket into an ``error`` frame (``parley.realtime.consumers``), the HTTP API into its JSON error
with the code's status (``parley.api.errors``), a management command into a ``CommandError``.
"""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal["invalid", "forbidden", "not_found", "too_large", "rate_limited", "unavailable", "internal"]

HTTP_STATUS: dict[ErrorCode, int] = {
    "invalid": 400,
    "forbidden": 403,
    "not_found": 404,
    "too_large": 413,
    "rate_limited": 429,
    "unavailable": 503,
    "internal": 500,
}
"""The HTTP status each code is answered with, by the API and by the web pages alike."""


class ParleyError(Exception):
    """A request Parley refuses: the protocol's ``code`` and a sentence, ``detail``, saying why.

    ``ref`` is the client frame's, echoed in the socket's error frame; ``retry_after`` (seconds) goes
    with ``rate_limited``; ``status`` overrides the HTTP status the code maps to (409 for a request
    the current state forbids).
    """

    def __init__(
        self,
        code: ErrorCode,
        detail: str,
        *,
        ref: str | int | None = None,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.code: ErrorCode = code
        self.detail = detail
        self.ref = ref
        self.retry_after = retry_after
        self.status = status

    @property
    def http_status(self) -> int:
        """The HTTP status this refusal is answered with: ``status`` if given, else the code's."""
        return HTTP_STATUS[self.code] if self.status is None else self.status
