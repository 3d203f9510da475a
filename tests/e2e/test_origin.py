"""The handshake's Origin rule, on Daphne and on Uvicorn: foreign origins are refused, and the
session cookie only counts when a browser's allowed Origin comes with it."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus

from tests.e2e.client import Client, Connect
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.servers import ServerProcess

pytestmark = [pytest.mark.e2e]

PASSWORD = "carol-e2e-password-1"


@pytest.fixture(scope="module")
def site(site_factory) -> Site:
    return site_factory(
        rooms=(RoomSpec("hall", guests=True), RoomSpec("den", private=True, members=("carol",))),
        users=(UserSpec("carol", password=PASSWORD),),
    )


@pytest.fixture(scope="module", params=["daphne", "uvicorn"])
def server(request: pytest.FixtureRequest, site: Site) -> ServerProcess:
    return site.start(kind=request.param)


def log_in(server: ServerProcess, username: str, password: str) -> str:
    """Log in through the real login form (CSRF and all); return the session cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = f"{server.http_url}/accounts/login/"
    with opener.open(url, timeout=10) as response:
        page = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "the login page has no CSRF token"
    form = {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1), "next": "/"}
    with opener.open(url, data=urllib.parse.urlencode(form).encode(), timeout=10) as response:
        assert response.status == 200
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "sessionid" in cookies, "logging in set no session cookie"
    return f"sessionid={cookies['sessionid']}"


@pytest.fixture(scope="module")
def session_cookie(server: ServerProcess) -> str:
    return log_in(server, "carol", PASSWORD)


async def author_of_a_post(client: Client, client_id: str) -> dict[str, object]:
    """Post in the guests' room and return the author the server stored."""
    await client.request({"type": "subscribe", "room": "hall"})
    await client.send({"type": "send", "room": "hall", "body": "who am I?", "client_id": client_id})
    mine: dict[str, dict[str, object]] = {}
    while set(mine) != {"ack", "message"}:
        frame = await client.recv()
        if frame.get("client_id") == client_id:
            mine[frame["type"]] = frame
    author: dict[str, object] = mine["message"]["author"]
    return author


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://evil.example",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example",
        "null",
        "file://",
    ],
)
async def test_foreign_origin_is_refused_at_the_handshake(server, session_cookie, origin):
    for path in ("/ws/", "/ws/chat/hall/"):
        with pytest.raises(InvalidStatus) as refused:
            await Client.open(f"{server.ws_url}{path}", origin=origin, cookie=session_cookie)
        assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    "origin", ["http://localhost", "http://127.0.0.1", "http://localhost:8000", "https://localhost"]
)
async def test_allowed_origin_is_accepted(server, connect: Connect, origin):
    client = await connect(server, origin=origin, name="visitor")
    assert await client.request({"type": "ping", "ref": 1}) == {"type": "pong", "ref": 1}


async def test_allowed_origin_with_session_acts_as_the_user(server, site, session_cookie, connect: Connect):
    client = await connect(server, origin=f"http://127.0.0.1:{server.port}", cookie=session_cookie)
    assert await author_of_a_post(client, f"as-carol-{server.kind}") == {
        "id": site.users["carol"].id,
        "name": "carol",
        "guest": False,
    }
    reply = await client.request({"type": "subscribe", "room": "den"})
    assert reply == {"type": "subscribed", "room": "den", "head": 0, "truncated": False}


async def test_no_origin_with_session_acts_as_a_guest(server, session_cookie, connect: Connect):
    client = await connect(server, cookie=session_cookie, name="nobody")
    assert await author_of_a_post(client, f"as-guest-{server.kind}") == {"id": None, "name": "nobody", "guest": True}
    reply = await client.request({"type": "subscribe", "room": "den", "ref": "d"})
    assert (reply["type"], reply["code"], reply["ref"]) == ("error", "not_found", "d")


async def test_no_origin_with_session_is_refused_when_guests_are_off(server, site, session_cookie, connect: Connect):
    """Without guests, a cookie alone (no Origin) is no identity at all."""
    guestless = site.start(kind=server.kind, PARLEY_GUESTS="0")
    client = await connect(guestless, cookie=session_cookie)
    _, code = await client.closed()
    assert code == 4401
    browser = await connect(guestless, cookie=session_cookie, origin="http://localhost")
    assert await browser.request({"type": "ping"}) == {"type": "pong"}


async def test_allowed_origins_follow_django_allowed_hosts(site, connect: Connect):
    server = site.start(DJANGO_ALLOWED_HOSTS="chat.example.com,.parley.example")
    for origin in ("https://chat.example.com", "http://chat.example.com:8443", "https://eu.parley.example"):
        client = await connect(server, origin=origin, name="visitor")
        assert await client.request({"type": "ping"}) == {"type": "pong"}
    for origin in ("http://localhost", "http://127.0.0.1", "https://example.com", "https://chat.example.com.evil"):
        with pytest.raises(InvalidStatus) as refused:
            await Client.open(f"{server.ws_url}/ws/", origin=origin)
        assert refused.value.response.status_code == 403, origin
