"""Sign-ins: how each signed-in socket signed in, so the hub can close it when that sign-in ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley.events.publish import TOKEN_REVOKED


@dataclass(frozen=True, slots=True, eq=False)
class SignIn:
    """How one socket of a signed-in user signed in (either protocol), and ``end(detail)``, called
    when that sign-in ends: its token revoked, its session logged out, the user's password changed
    (for session sockets) or the account deactivated or deleted (for all)."""

    user_id: int
    token_id: int | None
    session_key: str | None
    session_hash: str
    end: Callable[[str], None]

    def ended_by(self, event: dict[str, Any]) -> bool:
        """Whether a ``token.revoked`` or ``user.signed_out`` event of this user ends this sign-in."""
        if event["type"] == TOKEN_REVOKED:
            return self.token_id is not None and self.token_id == int(event["token_id"])
        session_key: str | None = event.get("session_key")
        if session_key is not None:
            return self.session_key == session_key
        session_hash: str | None = event.get("session_hash")
        if session_hash is not None:
            return self.session_key is not None and self.session_hash != session_hash
        return True


TOKEN_REVOKED_DETAIL = "The API token of this connection was revoked."
