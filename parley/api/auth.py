"""Who is calling the HTTP API: a bearer token or the Django session, and the per-caller rate limit.

Both schemes put an ``Identity`` on ``request.auth``. Guests are not accepted: the API is for users
(a guest's browser session authenticates nothing here). Session callers must pass Django's CSRF
check on unsafe methods (the ``csrftoken`` cookie's value in ``X-CSRFToken``); token callers need
not, since a browser never sends a bearer token by itself.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from parley.accounts.identity import Identity, user_identity
from parley.accounts.selectors import token_active
from parley.accounts.users import User
from parley.realtime.ratelimit import api_call_allowed, identity_key
from parley.wire.errors import ParleyError


def admit(identity: Identity) -> Identity:
    """Count the call against the caller's API rate limit (``PARLEY_API_RATE``); raise 429 when over it.

    The one place where API calls are rate limited: both auth schemes end here, so nothing a
    refused call asks for is carried out.
    """
    decision = async_to_sync(api_call_allowed)(identity_key(identity))
    if not decision.allowed:
        raise ParleyError(
            "rate_limited",
            f"Too many API calls; nothing was done. Retry in {decision.retry_after:.3g} s.",
            retry_after=decision.retry_after,
        )
    return identity


class BearerToken(HttpBearer):
    """``Authorization: Bearer parley_…``: an API token of an active user."""

    def authenticate(self, request: HttpRequest, token: str) -> Identity | None:
        api_token = token_active(secret=token)
        if api_token is None:
            # A token that does not work is an answer, not a cue to try the session cookie: a
            # client that sent one should learn that it failed.
            raise AuthenticationError()
        return admit(user_identity(api_token.user, token_id=api_token.pk))


class SessionCookie(APIKeyCookie):
    """The Django session of a signed-in user, with Django's CSRF check on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None  # an anonymous session has nothing a forged request could use
        if check_csrf(request) is not None and not getattr(request, "_ninja_csrf_exempt", False):
            raise ParleyError(
                "forbidden",
                "The CSRF check failed: with session auth, send the 'csrftoken' cookie's value in the "
                "X-CSRFToken header, or use a bearer token instead.",
            )
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Identity | None:
        if not request.user.is_authenticated:
            return None
        return admit(user_identity(request.user))


API_AUTH = [BearerToken(), SessionCookie()]
"""The auth of every operation unless it says otherwise: a token first, then the session."""


def caller(request: HttpRequest) -> Identity:
    """The identity the auth schemes put on the request."""
    identity = getattr(request, "auth", None)
    if not isinstance(identity, Identity) or identity.user is None:
        raise ParleyError("forbidden", "This endpoint needs a signed-in user.", status=401)
    return identity


def caller_user(request: HttpRequest) -> User:
    """The signed-in user behind the request (the API has no guests)."""
    user = caller(request).user
    if user is None:  # ``caller`` refuses identities without a user already
        raise ParleyError("forbidden", "This endpoint needs a signed-in user.", status=401)
    return user
