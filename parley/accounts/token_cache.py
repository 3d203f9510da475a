"""Recently used API tokens, so a reconnecting client is not a database query per handshake.

The token lookup, with its hop to the database thread, was the largest single cost of an
authenticated handshake when profiled. A token seen in the last
``TOKEN_CACHE_SECONDS`` is taken from here instead. Revocation empties the entry at once in the
revoking process and, through the channel layer, in every other (the hubs hear the event); so
does a user's deactivation or deletion for all of that user's tokens. An entry also ends by itself.

A plain dict: its reads and writes are atomic under the GIL, and it is touched from the event
loop and the database thread both, which a non-thread-safe TTL cache class would not survive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.accounts.users import User

TOKEN_CACHE_SECONDS = 60.0
MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class KnownToken:
    user: User
    token_id: int
    until: float


_known: dict[str, KnownToken] = {}


def token_recall(digest: str) -> KnownToken | None:
    """The token with this digest, if it was looked up recently and is not revoked since."""
    known = _known.get(digest)
    if known is None or known.until < time.monotonic():
        return None
    return known


def token_remember(digest: str, *, user: User, token_id: int) -> None:
    """Keep a token that the database just confirmed is active."""
    if len(_known) >= MAX_ENTRIES:
        _known.clear()  # rare, and harmless: entries are only a shortcut
    _known[digest] = KnownToken(user=user, token_id=token_id, until=time.monotonic() + TOKEN_CACHE_SECONDS)


def token_forget(token_id: int) -> None:
    """Drop a revoked token, so its next handshake is checked against the database."""
    for digest, known in list(_known.items()):
        if known.token_id == token_id:
            _known.pop(digest, None)


def token_forget_signed_out(event: dict[str, Any]) -> None:
    """Forget the cached token lookups a ``user.signed_out`` event ends: all the user's when the
    account was deactivated or deleted (the event names no session), else none."""
    if event.get("session_key") is None and event.get("session_hash") is None:
        token_forget_user(event["user_id"])


def token_forget_user(user_id: int) -> None:
    """Drop every token of a user who was deactivated or deleted."""
    for digest, known in list(_known.items()):
        if known.user.pk == user_id:
            _known.pop(digest, None)
