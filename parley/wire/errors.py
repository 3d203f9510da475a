"""One application error for every refusal, whichever transport carried the request.

A service raises ``ParleyError`` (or a subclass naming the kind of refusal) with one of the
protocol's codes and a sentence a person can act on. Each transport translates it once: the
socket into an ``error`` frame (``parley.realtime.consumers``), the HTTP API into its JSON error
with the code's status (``parley.api.errors``), a management command into a ``CommandError``.
"""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal["invalid", "forbidden", "not_found", "too_large", "rate_limited", "unavailable", "internal"]


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
