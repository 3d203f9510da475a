"""Who is on the other end of a connection or request: a user, or a guest."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.http import HttpRequest

from parley.accounts.permissions import Codename, user_can
from parley.accounts.users import User
from parley.conf import parley_settings

# Where a browser guest's chosen name and stable id live in the Django session.
GUEST_NAME_SESSION_KEY = "parley_guest_name"
GUEST_ID_SESSION_KEY = "parley_guest_id"
GUEST_NAME_PATTERN = re.compile(r"^[\w .'-]{1,32}$")


@dataclass(frozen=True, slots=True)
class Identity:
    """The sender or reader behind a connection.

    Exactly one of ``user`` and ``guest_id`` is set. Guests have a display name and an id that is
    stable for their browser session (or for one connection, for clients without a session).
    """

    user: User | None = None
    guest_id: str = ""
    guest_name: str = ""
    # The API token the connection signed in with (None for sessions and guests): revoking it
    # closes the connection.
    token_id: int | None = None
    # The Django session the connection signed in with, and the session's auth hash then (None and
    # "" for tokens and guests): logging that session out, or a new password, closes the connection.
    session_key: str | None = None
    session_hash: str = ""
    # Parley's permissions of ``user`` once asked (``can``): an identity lives as long as its socket
    # or request, so a permission granted meanwhile counts from the next connection or request.
    _granted: dict[Codename, bool] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_guest(self) -> bool:
        return self.user is None

    @property
    def is_staff(self) -> bool:
        return bool(self.user is not None and getattr(self.user, "is_staff", False))

    def can(self, codename: Codename) -> bool:
        """Whether this identity holds ``parley.<codename>`` (``parley.accounts.permissions``);
        guests hold none. Asked once per identity: every post and subscribe asks again."""
        if self.user is None:
            return False
        granted = self._granted.get(codename)
        if granted is None:
            granted = self._granted[codename] = user_can(self.user, codename)
        return granted

    @property
    def display_name(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.guest_name

    @property
    def user_id(self) -> int | None:
        return None if self.user is None else int(self.user.pk)

    @property
    def key(self) -> str:
        """One string per person: ``user:<id>`` whatever token or session they use, or ``guest:<id>``."""
        return f"user:{self.user_id}" if self.user is not None else f"guest:{self.guest_id}"


def user_identity(
    user: User, *, token_id: int | None = None, session_key: str | None = None, session_hash: str = ""
) -> Identity:
    """The identity of a signed-in user (through an API token, when ``token_id`` is given, or the
    session ``session_key``, whose auth hash was ``session_hash``)."""
    return Identity(user=user, token_id=token_id, session_key=session_key, session_hash=session_hash)


def guest_identity(*, guest_id: str, name: str) -> Identity:
    """The identity of an anonymous guest with a display name."""
    return Identity(guest_id=guest_id, guest_name=name)


def valid_guest_name(name: str) -> bool:
    """Guest display names: 1 to 32 letters, digits, spaces, '.', "'", '_' or '-'."""
    return bool(GUEST_NAME_PATTERN.match(name)) and bool(name.strip())


def forwarded_client_address(*, forwarded_for: str | None, peer: str | None) -> str | None:
    """The connecting client's IP address: ``peer``, or a hop of ``X-Forwarded-For`` behind proxies.

    With ``PARLEY_TRUSTED_PROXIES`` = n, it is the address the n-th proxy from here appended to
    ``X-Forwarded-For`` (entries further left are whatever the client chose to send); with 0, the
    header is ignored and it is the socket's peer (None when the server does not say: a Unix socket).
    """
    proxies: int = parley_settings.TRUSTED_PROXIES
    if proxies > 0 and forwarded_for is not None:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return peer


def request_identity(request: HttpRequest) -> Identity | None:
    """The identity behind an HTTP request: the signed-in user, a named guest, or None."""
    if request.user.is_authenticated:
        return user_identity(request.user)
    name = request.session.get(GUEST_NAME_SESSION_KEY, "")
    if parley_settings.GUESTS and name:
        return guest_identity(guest_id=request.session.get(GUEST_ID_SESSION_KEY, ""), name=name)
    return None
