"""Who is connecting: the WebSocket handshake's Origin rule and identity (session, token, guest).

Browsers send ``Origin``; a handshake is accepted only from the origins Django's CSRF check would
trust for a form posted to the same address, which stops other sites (and other ports and
schemes of the same host) from opening sockets with a visitor's session (cross-site WebSocket
hijacking). A handshake without ``Origin`` is not from a browser: it is accepted, but its
cookies are dropped, so only a bearer token or a guest identity can act through it.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import get_user
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError
from django.http.cookie import parse_cookie
from django.utils.http import is_same_domain

from parley.accounts.identity import (
    GUEST_ID_SESSION_KEY,
    GUEST_NAME_SESSION_KEY,
    Identity,
    forwarded_client_address,
    guest_identity,
    user_identity,
    valid_guest_name,
)
from parley.accounts.selectors import name_registered, token_active
from parley.accounts.services import token_digest
from parley.accounts.token_cache import token_recall, token_remember
from parley.accounts.users import User
from parley.conf import parley_settings
from parley.realtime.database import db_call
from parley.realtime.ratelimit import RateDecision, RateLimited, handshake_allowed
from parley.realtime.sockets import CLOSE_RATE_LIMITED
from parley.wire.frames import error_frame

Scope = dict[str, Any]
ASGIApp = Any


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header, or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


# In DEBUG, pages of this machine on any port (a front-end's development server, say) may open
# sockets, as Channels' AllowedHostsOriginValidator lets them for a new project.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def handshake_request(scope: Scope) -> ASGIRequest:
    """The handshake as Django would see the same request over HTTP: its host (``get_host``, with
    ``ALLOWED_HOSTS`` and ``USE_X_FORWARDED_HOST``) and its scheme (``is_secure``, with
    ``SECURE_PROXY_SSL_HEADER``) are then Django's own answers."""
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    # The query string plays no part in the origin rule, and Django would decode it as UTF-8: a
    # stranger's ``?name=\xff`` must not turn a refusal into a traceback.
    request_scope = {**scope, "type": "http", "method": "GET", "scheme": scheme, "query_string": b""}
    return ASGIRequest(request_scope, io.BytesIO())


def origin_allowed(scope: Scope, origin: str) -> bool:
    """Whether a browser's ``Origin`` may open a socket here: exactly when Django's CSRF check
    would trust it (``CsrfViewMiddleware``'s origin rule), or in DEBUG when it is this machine.

    That is: the handshake's own scheme, host and port (``http://chat.example.com`` does not
    vouch for ``https://chat.example.com``, nor ``:8000`` for ``:9999``), or one of
    ``CSRF_TRUSTED_ORIGINS``, whose ``https://*.example.com`` form trusts the subdomains.
    """
    request = handshake_request(scope)
    try:
        own = f"{'https' if request.is_secure() else 'http'}://{request.get_host()}"
    except DisallowedHost:
        own = None
    if origin == own:
        return True
    trusted: list[str] = list(settings.CSRF_TRUSTED_ORIGINS)
    if origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
        hostname = parsed.hostname
    except ValueError:
        return False
    if settings.DEBUG and parsed.scheme in ("http", "https") and hostname in LOOPBACK_HOSTS:
        return True
    wildcards = (urlsplit(pattern) for pattern in trusted if "*" in pattern)
    return any(
        wildcard.scheme == parsed.scheme and is_same_domain(parsed.netloc, wildcard.netloc.lstrip("*"))
        for wildcard in wildcards
    )


# Where Channels' CookieMiddleware, SessionMiddleware and AuthMiddleware put what they read.
SESSION_SCOPE_KEYS = frozenset({"cookies", "session", "user"})


class OriginMiddleware:
    """Refuse origins Django would not trust (``origin_allowed``); strip cookies from clients that
    send no Origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        screened = origin_screened(scope)
        if screened is None:
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(screened, receive, send)


def origin_screened(scope: Scope) -> Scope | None:
    """``scope`` as ``OriginMiddleware`` passes it on (without cookies when the client sent no
    Origin), or None when the origin is one Django would not trust."""
    origin = header(scope, b"origin")
    if origin is None:
        headers = scope["headers"]
        # Copied only to leave a cookie out: the copy lives as long as the socket.
        if any(key == b"cookie" for key, _ in headers):
            headers = [(key, value) for key, value in headers if key != b"cookie"]
        # What a host's AuthMiddlewareStack already read from the cookie goes with it.
        scope = {key: value for key, value in scope.items() if key not in SESSION_SCOPE_KEYS}
        scope["headers"] = headers
    elif not origin_allowed(scope, origin.decode("latin-1")):
        return None
    return scope


class IdentityMiddleware:
    """Put the connection's ``Identity`` (or None) in ``scope["parley.identity"]``.

    A bearer token wins over the session. An ``Authorization`` header with a token that is
    unknown or revoked gives no identity at all (never a silent fall-back to guest), and
    ``scope["parley.auth_error"]`` says why.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        return await self.app(await self.identified(scope), receive, send)

    @classmethod
    async def identified(cls, scope: Scope) -> Scope:
        """A copy of ``scope`` with ``parley.identity`` and ``parley.auth_error`` set."""
        scope = dict(scope)
        scope["parley.identity"], scope["parley.auth_error"] = await cls._identify(scope)
        return scope

    @classmethod
    async def _identify(cls, scope: Scope) -> tuple[Identity | None, str]:
        authorization = header(scope, b"authorization")
        if authorization is not None:
            scheme, _, secret = authorization.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                return None, "The Authorization header must be 'Bearer <token>'."
            return await cls._token_identity(secret.strip())
        user = await cls._session_user(scope)
        if user is not None:
            session = scope["session"]
            # The key and hash the session had: logging it out, or a new password, ends this sign-in.
            signed_in = user_identity(
                user, session_key=session.session_key, session_hash=session.get(HASH_SESSION_KEY, "")
            )
            return signed_in, ""
        if parley_settings.GUESTS:
            return await cls._guest(scope), ""
        return None, "Sign in, or connect with 'Authorization: Bearer <token>'."

    @staticmethod
    async def _token_identity(secret: str) -> tuple[Identity | None, str]:
        digest = token_digest(secret)
        known = token_recall(digest)
        if known is not None:
            return user_identity(known.user, token_id=known.token_id), ""
        token = await db_call(token_active)(secret=secret)
        if token is None:
            return None, "The API token is unknown or revoked."
        token_remember(digest, user=token.user, token_id=token.pk)
        return user_identity(token.user, token_id=token.pk), ""

    @staticmethod
    async def _session_user(scope: Scope) -> User | None:
        """The session's user, if any, with the session in ``scope["session"]``: the one a host's
        ``AuthMiddlewareStack`` loaded, or else the one the cookie names.

        Parley does not need the stack: it wraps every ``send`` to save the session, a cost paid
        per frame written (it showed in the fan-out's profile) and never needed here, as
        WebSockets only read the session.
        """
        if scope.get("session") is None:
            cookie = header(scope, b"cookie")
            session_key = parse_cookie(cookie.decode("latin-1")).get(settings.SESSION_COOKIE_NAME) if cookie else None
            if not session_key:
                scope["user"] = AnonymousUser()
                return None
            scope["session"] = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
        user = await get_user(scope)
        scope["user"] = user
        return user if user.is_authenticated else None

    @staticmethod
    async def _guest(scope: Scope) -> Identity:
        """A guest, named as their session or ``?name=`` says, unless that name is not valid or is a
        registered user's (or looks like one, ``name_registered``): then ``guest-`` and four hex digits."""
        session = scope.get("session") or {}
        guest_id = session.get(GUEST_ID_SESSION_KEY) or uuid.uuid4().hex
        name = session.get(GUEST_NAME_SESSION_KEY, "")
        if not name:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            name = query.get("name", [""])[0].strip()
        # A session's name was checked when it was picked, but the username may have been registered since.
        if not valid_guest_name(name) or await IdentityMiddleware._name_taken(name):
            name = f"guest-{guest_id[:4]}"
        return guest_identity(guest_id=guest_id, name=name)

    @staticmethod
    async def _name_taken(name: str) -> bool:
        """Whether ``name`` is (or looks like) a registered username; True while the database cannot
        say, so that a guest still connects during an outage, under a name that is nobody's."""
        try:
            return await db_call(name_registered)(name=name)
        except DatabaseError:
            return True


def client_address(scope: Scope) -> str | None:
    """The connecting client's IP address (``forwarded_client_address``), or None when the server
    does not say (a Unix socket)."""
    # Most handshakes come with no proxy to trust: the headers are not even looked at then.
    forwarded = header(scope, b"x-forwarded-for") if parley_settings.TRUSTED_PROXIES > 0 else None
    client = scope.get("client")
    return forwarded_client_address(
        forwarded_for=None if forwarded is None else forwarded.decode("latin-1"),
        peer=str(client[0]) if client else None,
    )


HANDSHAKE_LIMITED_DETAIL = "Too many connections from your address; reconnect in {wait} s."


class HandshakeLimitMiddleware:
    """Limit handshakes per client address (``PARLEY_HANDSHAKE_RATE``), before any identity lookup.

    Over the limit, the handshake is accepted only to say so: an ``error`` frame (``rate_limited``
    with ``retry_after``), then close 4429. A client can act on that; a refused handshake looks to
    a browser like any network failure, with no reason and no delay to wait.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        decision = await self.refusal(scope)
        if decision is not None:
            return await self.refuse(decision, receive, send)
        return await self.app(scope, receive, send)

    @staticmethod
    async def refusal(scope: Scope) -> RateDecision | None:
        """The decision refusing this handshake when its address is over the limit, else None."""
        address = client_address(scope)
        if address is None:
            return None
        decision = await handshake_allowed(address)
        return None if decision.allowed else decision

    @staticmethod
    async def refuse(decision: RateDecision, receive: Any, send: Any) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        detail = HANDSHAKE_LIMITED_DETAIL.format(wait=f"{decision.retry_after:.3g}")
        await send({"type": "websocket.send", "text": error_frame(RateLimited(decision, detail)).to_json()})
        await send({"type": "websocket.close", "code": CLOSE_RATE_LIMITED})


class SocketStack:
    """``OriginMiddleware``, ``HandshakeLimitMiddleware`` and ``IdentityMiddleware`` around ``app``,
    run in one coroutine.

    Each middleware's coroutine, and the scope it was given, stays alive for as long as the
    socket is open. One coroutine for all of them (and for ``on_connect``, which a fourth would
    call), holding only the scope ``app`` gets, keeps an idle socket nearly 2 KB smaller.
    ``on_connect``, when given, is called first on every connection
    (``parley.routing.parley_route``: start the process's task runner).
    """

    def __init__(self, app: ASGIApp, on_connect: Callable[[], object] | None = None) -> None:
        self.app = app
        self.on_connect = on_connect

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if self.on_connect is not None:
            self.on_connect()
        screened = origin_screened(scope)
        if screened is None:
            return await WebsocketDenier()(scope, receive, send)
        decision = await HandshakeLimitMiddleware.refusal(screened)
        if decision is not None:
            return await HandshakeLimitMiddleware.refuse(decision, receive, send)
        # Rebound, so that this frame holds only the scope ``app`` holds as well.
        scope = screened = await IdentityMiddleware.identified(screened)
        return await self.app(scope, receive, send)


def websocket_stack(app: ASGIApp, on_connect: Callable[[], object] | None = None) -> ASGIApp:
    """Origin check → handshakes per address → identity (token, session user or guest) → ``app``
    (``SocketStack``), after ``on_connect`` when given."""
    return SocketStack(app, on_connect)
