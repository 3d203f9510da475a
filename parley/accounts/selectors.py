"""Reads for accounts."""

from __future__ import annotations

from parley.accounts.models import ApiToken, UsernameKey
from parley.accounts.names import name_key
from parley.accounts.services import TOKEN_PREFIX, token_digest
from parley.accounts.users import User, active_lookup, name_lookup, users, users_active


def token_active(*, secret: str) -> ApiToken | None:
    """The unrevoked token of an active user with this secret (its ``user`` loaded), or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    try:
        return ApiToken.objects.select_related("user").get(
            digest=token_digest(secret), revoked_at__isnull=True, **active_lookup(through="user")
        )
    except ApiToken.DoesNotExist:
        return None


def tokens_for_user(*, user: User) -> list[ApiToken]:
    """A user's tokens, newest first, revoked ones included."""
    return list(ApiToken.objects.filter(user=user))


def token_of_user(*, user: User, token_id: int) -> ApiToken | None:
    """The user's token with this id (revoked or not), or None when it is not theirs."""
    return ApiToken.objects.filter(user=user, pk=token_id).first()


def user_by_name(*, name: str) -> User | None:
    """The active user whose name (``USERNAME_FIELD``) is exactly ``name``, or None."""
    return users_active().filter(**{name_lookup(): name}).first()


def users_by_username(*, usernames: list[str]) -> dict[str, User]:
    """The active users with these names (``USERNAME_FIELD``), by name (unknown ones are left out)."""
    return {user.get_username(): user for user in users_active().filter(**{name_lookup("in"): usernames})}


def name_registered(*, name: str) -> bool:
    """Whether ``name`` is a registered username, or looks like one: the same but for case,
    Unicode forms or look-alike letters (``name_key``). Guests may not take such names."""
    if users().filter(**{name_lookup("iexact"): name.strip()}).exists():
        return True  # even a user saved without its key (bulk_create, update) keeps their name
    return UsernameKey.objects.filter(key=name_key(name)).exists()
