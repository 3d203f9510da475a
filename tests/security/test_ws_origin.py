"""The handshake's Origin rule, as a table: a socket is accepted from exactly the origins Django's
CSRF check trusts for a form posted to the same address (scheme, host and port), and in DEBUG
from this machine on any port.

Every row is also put to Django's own ``CsrfViewMiddleware`` (a POST to the same host, with a
valid token): where the two disagree, the socket would be looser or stricter than a form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.test import RequestFactory, override_settings

from parley.realtime.auth import OriginMiddleware


@dataclass(frozen=True)
class Site:
    """How the server is reached: the Host header, ws or wss, the settings and any proxy headers."""

    host: str
    settings: dict[str, Any]
    scheme: str = "ws"
    headers: tuple[tuple[str, str], ...] = ()
    debug: bool = False


PLAIN = Site("127.0.0.1:8000", {"ALLOWED_HOSTS": ["localhost", "127.0.0.1"]})
BEHIND_TLS_PROXY = Site(
    "chat.example.com",
    {
        "ALLOWED_HOSTS": ["chat.example.com"],
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "CSRF_TRUSTED_ORIGINS": ["https://chat.example.com", "https://*.partner.example"],
    },
    headers=(("x-forwarded-proto", "https"),),
)
# The same proxy settings, but the request did not come through the proxy: it is plain HTTP.
PROXY_SETTINGS_NO_HEADER = Site("chat.example.com", BEHIND_TLS_PROXY.settings)
DIRECT_TLS = Site("chat.example.com:8443", {"ALLOWED_HOSTS": ["chat.example.com"]}, scheme="wss")
UNKNOWN_HOST = Site("evil.example", {"ALLOWED_HOSTS": ["chat.example.com"]})
FRESH_DEBUG = Site("localhost:8000", {"ALLOWED_HOSTS": []}, debug=True)

# (site, Origin, accepted?, what Django's CSRF check says when it differs: only DEBUG's loopback rule)
TABLE = [
    (PLAIN, "http://127.0.0.1:8000", True, None),
    (PLAIN, "http://127.0.0.1:9999", False, None),
    (PLAIN, "https://127.0.0.1:8000", False, None),
    (PLAIN, "https://127.0.0.1", False, None),
    (PLAIN, "http://127.0.0.1", False, None),
    (PLAIN, "http://localhost:8000", False, None),
    (PLAIN, "http://evil.example", False, None),
    (PLAIN, "http://127.0.0.1.evil.example:8000", False, None),
    (PLAIN, "null", False, None),
    (PLAIN, "file://", False, None),
    (BEHIND_TLS_PROXY, "https://chat.example.com", True, None),
    (BEHIND_TLS_PROXY, "http://chat.example.com", False, None),
    (BEHIND_TLS_PROXY, "https://chat.example.com:8443", False, None),
    (BEHIND_TLS_PROXY, "https://eu.partner.example", True, None),
    (BEHIND_TLS_PROXY, "http://eu.partner.example", False, None),
    (BEHIND_TLS_PROXY, "https://partner.example.evil", False, None),
    (BEHIND_TLS_PROXY, "https://evil.example", False, None),
    (PROXY_SETTINGS_NO_HEADER, "http://chat.example.com", True, None),
    (PROXY_SETTINGS_NO_HEADER, "https://chat.example.com", True, None),  # a trusted origin
    (DIRECT_TLS, "https://chat.example.com:8443", True, None),
    (DIRECT_TLS, "http://chat.example.com:8443", False, None),
    (DIRECT_TLS, "https://chat.example.com", False, None),
    (UNKNOWN_HOST, "http://evil.example", False, None),
    (FRESH_DEBUG, "http://localhost:8000", True, None),
    (FRESH_DEBUG, "http://localhost:3000", True, False),
    (FRESH_DEBUG, "https://127.0.0.1:5173", True, False),
    (FRESH_DEBUG, "http://[::1]:8080", True, False),
    (FRESH_DEBUG, "http://evil.example", False, None),
    (FRESH_DEBUG, "http://localhost.evil.example", False, None),
]


def row_id(row: tuple[Site, str, bool, bool | None]) -> str:
    site, origin, *_ = row
    return f"{site.scheme}://{site.host}{'+proxy' if site.headers else ''}{'+debug' if site.debug else ''} <- {origin}"


async def accepting_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await receive()


async def socket_accepted(site: Site, origin: str) -> bool:
    headers = [(b"host", site.host.encode()), (b"origin", origin.encode())]
    headers += [(name.encode(), value.encode()) for name, value in site.headers]
    middleware = OriginMiddleware(accepting_app)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await middleware({**scope, "scheme": site.scheme, "server": ("127.0.0.1", 8000)}, receive, send)

    communicator = WebsocketCommunicator(app, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=3)
    if connected:
        await communicator.disconnect()
    return bool(connected)


def csrf_accepts(site: Site, origin: str) -> bool:
    """Whether Django's CSRF check passes a POST with this Origin (and a valid token) to ``site``."""
    token = "a" * 32
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in site.headers}
    request = RequestFactory().post(
        "/", HTTP_HOST=site.host, HTTP_ORIGIN=origin, HTTP_X_CSRFTOKEN=token, secure=site.scheme == "wss", **meta
    )
    request.COOKIES["csrftoken"] = token
    middleware = CsrfViewMiddleware(lambda request: HttpResponse())
    return middleware.process_view(request, lambda request: HttpResponse(), (), {}) is None


@pytest.mark.parametrize(("site", "origin", "accepted", "csrf"), TABLE, ids=[row_id(row) for row in TABLE])
async def test_the_socket_trusts_the_origins_a_form_would(site: Site, origin: str, accepted: bool, csrf: bool | None):
    defaults = {"DEBUG": site.debug, "CSRF_TRUSTED_ORIGINS": [], "SECURE_PROXY_SSL_HEADER": None}
    with override_settings(**{**defaults, **site.settings}):
        assert await socket_accepted(site, origin) is accepted
        assert csrf_accepts(site, origin) is (accepted if csrf is None else csrf)


async def test_a_query_string_that_is_not_utf8_is_refused_or_served_never_a_traceback():
    """The origin rule builds Django's request from the handshake, which would decode the query as
    UTF-8: a stranger's ``?name=%ff`` in raw bytes must not raise out of the middleware."""
    middleware = OriginMiddleware(accepting_app)
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await middleware({**scope, "query_string": b"name=\xff", "server": ("127.0.0.1", 8000)}, receive, send)

    with override_settings(ALLOWED_HOSTS=["127.0.0.1"], DEBUG=False, CSRF_TRUSTED_ORIGINS=[]):
        communicator = WebsocketCommunicator(app, "/ws/", headers=headers)
        connected, _ = await communicator.connect(timeout=3)
        assert connected
        await communicator.disconnect()
