"""The handshake's Origin rule, on Daphne and on Uvicorn: only the origins Django's CSRF check
would trust are accepted (the server's own scheme, host and port, or CSRF_TRUSTED_ORIGINS), and
the session cookie only counts when such an Origin comes with it."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request

import pytest
from websockets.asyncio.client import connect as connect_socket
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


# Origins of the same host that differ from the server's own (http://127.0.0.1:<port>) in port or
# scheme: another program on the machine, or the https site of the same name. Django's CSRF check
# refuses their forms, so their sockets are refused too, cookie or not.
SAME_HOST_OTHER_ORIGINS = [
    "http://127.0.0.1:9999",
    "https://127.0.0.1:{port}",
    "https://127.0.0.1",
    "http://127.0.0.1",
    "http://localhost:{port}",
    "https://localhost",
]


@pytest.mark.parametrize("origin", SAME_HOST_OTHER_ORIGINS)
async def test_another_port_or_scheme_of_the_host_is_refused(server, session_cookie, origin):
    origin = origin.format(port=server.port)
    for path in ("/ws/", "/ws/chat/hall/"):
        with pytest.raises(InvalidStatus) as refused:
            await Client.open(f"{server.ws_url}{path}", origin=origin, cookie=session_cookie)
        assert refused.value.response.status_code == 403, origin


async def test_the_servers_own_origin_is_accepted(server, connect: Connect):
    client = await connect(server, origin=f"http://127.0.0.1:{server.port}", name="visitor")
    assert await client.request({"type": "ping", "ref": 1}) == {"type": "pong", "ref": 1}


async def test_in_debug_this_machine_on_any_port_is_accepted(site, server, connect: Connect):
    debug = site.start(kind=server.kind, DJANGO_DEBUG="1")
    for origin in ("http://localhost:3000", "http://127.0.0.1:9999", "https://localhost"):
        client = await connect(debug, origin=origin, name="visitor")
        assert await client.request({"type": "ping"}) == {"type": "pong"}
    with pytest.raises(InvalidStatus):
        await Client.open(f"{debug.ws_url}/ws/", origin="http://evil.example")


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
    browser = await connect(guestless, cookie=session_cookie, origin=f"http://127.0.0.1:{guestless.port}")
    assert await browser.request({"type": "ping"}) == {"type": "pong"}


async def open_as(server: ServerProcess, host: str, origin: str) -> Client:
    """A handshake with ``server`` addressed to ``host`` (its Host header), as a browser there would."""
    socket = await connect_socket(
        f"ws://{host}/ws/?name=visitor", host="127.0.0.1", port=server.port, origin=origin, open_timeout=5
    )
    return Client(socket)


async def test_allowed_origins_follow_the_host_and_csrf_trusted_origins(site, connect: Connect):
    server = site.start(DJANGO_ALLOWED_HOSTS="chat.example.com,.parley.example")
    accepted = [
        ("chat.example.com", "http://chat.example.com"),
        ("chat.example.com:8080", "http://chat.example.com:8080"),
        ("eu.parley.example", "http://eu.parley.example"),
    ]
    for host, origin in accepted:
        client = await open_as(server, host, origin)
        assert await client.request({"type": "ping"}) == {"type": "pong"}
        await client.close()
    refused = [
        ("chat.example.com", "https://chat.example.com"),
        ("chat.example.com", "http://chat.example.com:8080"),
        ("chat.example.com", "http://eu.parley.example"),
        ("evil.example", "http://evil.example"),  # a Host outside ALLOWED_HOSTS vouches for nothing
    ]
    for host, origin in refused:
        with pytest.raises(InvalidStatus) as denied:
            await open_as(server, host, origin)
        assert denied.value.response.status_code == 403, (host, origin)
    trusting = site.start(
        DJANGO_ALLOWED_HOSTS="chat.example.com", DJANGO_CSRF_TRUSTED_ORIGINS="https://*.partner.example"
    )
    client = await open_as(trusting, "chat.example.com", "https://eu.partner.example")
    assert await client.request({"type": "ping"}) == {"type": "pong"}
    await client.close()
