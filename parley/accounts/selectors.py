"""Reads for accounts."""

from __future__ import annotations

from django.contrib.auth.models import User

from parley.accounts.models import ApiToken
from parley.accounts.services import TOKEN_PREFIX, token_digest


def token_user(*, secret: str) -> User | None:
    """The active user a bearer token belongs to, or None for an unknown or revoked token."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    try:
        token = ApiToken.objects.select_related("user").get(
            digest=token_digest(secret), revoked_at__isnull=True, user__is_active=True
        )
    except ApiToken.DoesNotExist:
        return None
    return token.user


def tokens_for_user(*, user: User) -> list[ApiToken]:
    """A user's tokens, newest first, revoked ones included."""
    return list(ApiToken.objects.filter(user=user))
