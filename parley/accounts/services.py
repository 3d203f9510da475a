"""Writes for accounts: creating users and issuing and revoking API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.accounts.models import ApiToken, UsernameKey
from parley.accounts.names import name_key
from parley.accounts.token_cache import token_forget, token_forget_user
from parley.accounts.users import User, name_lookup, users
from parley.events.publish import publish_signed_out_on_commit, publish_token_revoked_on_commit

TOKEN_PREFIX = "parley_"


def token_digest(secret: str) -> str:
    """The stored form of a token: tokens are long random strings, so a plain SHA-256 suffices."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: ``secret`` is the only time the clear token exists."""

    token: ApiToken
    secret: str


@transaction.atomic
def token_issue(*, user: User, name: str = "") -> IssuedToken:
    """Create an API token for ``user`` and return it with its secret."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[: len(TOKEN_PREFIX) + 6], digest=token_digest(secret)
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def token_revoke(*, token: ApiToken) -> None:
    """Revoke a token: it stops authenticating at once, and the sockets it opened are closed."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        # Forgotten here at once, not only when this process's hub hears the event back.
        transaction.on_commit(partial(token_forget, token.pk))
        publish_token_revoked_on_commit(user_id=token.user_id, token_id=token.pk)


def user_sockets_close(*, user_id: int, detail: str) -> None:
    """After commit, close every socket of a user who was deactivated or deleted (4401, saying
    ``detail``), on every server process, and forget their cached token lookups there, so a token
    of theirs stops opening sockets at once rather than within ``TOKEN_CACHE_SECONDS``."""
    transaction.on_commit(partial(token_forget_user, user_id))
    publish_signed_out_on_commit(user_id=user_id, detail=detail)


def session_sockets_close(*, user_id: int, session_key: str) -> None:
    """After commit, close the sockets signed in with the session ``session_key`` (a log-out)."""
    publish_signed_out_on_commit(
        user_id=user_id, detail="You signed out; sign in again to continue.", session_key=session_key
    )


def stale_session_sockets_close(*, user_id: int, session_hash: str) -> None:
    """After commit, close the user's sockets signed in with a session whose auth hash is not
    ``session_hash``: after a new password, as Django signs those sessions out. Sockets of API
    tokens stay open: a token is its own credential, revoked on its own."""
    publish_signed_out_on_commit(
        user_id=user_id, detail="Your password was changed; sign in again to continue.", session_hash=session_hash
    )


@transaction.atomic
def user_get_or_create(*, username: str, is_staff: bool = False, password: str | None = None) -> User:
    """Return the user named ``username`` (their ``USERNAME_FIELD``), creating them (with
    ``password``, if given) when absent."""
    named: dict[str, Any] = {name_lookup(): username}
    user, created = users().get_or_create(**named)
    changed: list[str] = []
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        changed.append("password")
    # A user model without is_staff (only AbstractBaseUser's fields) has no staff to make.
    if is_staff and not getattr(user, "is_staff", True):
        user.is_staff = True
        changed.append("is_staff")
    if changed:
        user.save(update_fields=changed)
    return user


def username_key_save(*, user_id: int, username: str) -> None:
    """Store the look-alike key of a user's username, that guest names are checked against."""
    UsernameKey.objects.update_or_create(user_id=user_id, defaults={"key": name_key(username)})
