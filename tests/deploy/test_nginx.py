"""Parley deployed as the README says: behind ``deploy/nginx.conf`` (TLS), on PostgreSQL and Redis,
served by Daphne and by Gunicorn with Uvicorn workers, with static files collected.

Everything is checked through nginx, as a browser at https://chat.example.com would see it: pages,
``/healthz``, static files nginx serves itself, a WebSocket round trip with the site's own
``Origin`` (so Upgrade, Host and Origin reach Parley), and the scheme: Parley runs with
``DJANGO_HTTPS=1`` and must take the request as HTTPS from nginx's ``X-Forwarded-Proto``.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.deploy.conftest import SERVER_NAME, Nginx
from tests.e2e.conftest import claim_empty_redis_db, flush_redis_dbs
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.frames import received_frame
from tests.servers import ServerProcess, free_port, manage

pytestmark = [pytest.mark.e2e]

ROOM = "deployed"
PROBE = "nginx-probe.txt"  # written into the static directory after the server started


@dataclass
class Deployment:
    server: ServerProcess
    nginx: Nginx
    site: Site
    static: Path

    @property
    def origin(self) -> str:
        """What a browser on the site sends as Origin (the test's port is not 443)."""
        return f"https://{SERVER_NAME}:{self.nginx.https_port}"


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def client_tls() -> ssl.SSLContext:
    """TLS that trusts the test's self-signed certificate (any certificate, in fact)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def get(port: int, path: str, *, tls: bool, headers: dict[str, str] | None = None) -> Response:
    """A GET to 127.0.0.1:``port`` for the host chat.example.com."""
    connection: http.client.HTTPConnection
    if tls:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=client_tls())
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": SERVER_NAME, **(headers or {})})
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("static")


@pytest.fixture(scope="module")
def redis_db() -> Iterator[int]:
    claimed: list[int] = []
    yield claim_empty_redis_db(claimed)
    flush_redis_dbs(claimed)


@pytest.fixture(scope="module", params=["daphne", "gunicorn"])
def deployment(
    request: pytest.FixtureRequest, site_factory, postgres_url: str, redis_db: int, static_root: Path, nginx_factory
) -> Iterator[Deployment]:
    """The README's production setup on one server kind; the database is migrated by postgres_url."""
    site: Site = site_factory(
        rooms=(RoomSpec(ROOM, guests=True),), users=(UserSpec("alice"), UserSpec("bob")), database_url=postgres_url
    )
    env = {
        "DJANGO_ALLOWED_HOSTS": SERVER_NAME,
        "DJANGO_HTTPS": "1",
        "CHANNEL_LAYER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "DJANGO_STATIC_ROOT": str(static_root),
    }
    manage({**site.env, **env}, "collectstatic", "--noinput", "-v0")
    server = site.start(request.param, **env)
    (static_root / PROBE).write_text("served by nginx\n")
    nginx = nginx_factory(upstream_port=server.port, static=static_root)
    yield Deployment(server, nginx, site, static_root)
    nginx.stop()
    server.stop()


def test_pages_and_healthz_come_through_as_https(deployment: Deployment):
    page = get(deployment.nginx.https_port, "/", tls=True)
    assert page.status == 200, page.body[:500]
    assert ROOM.encode() in page.body  # read from PostgreSQL
    # Django sends HSTS only on requests it takes for HTTPS: nginx's X-Forwarded-Proto got through.
    assert "max-age=" in (page.headers["Strict-Transport-Security"] or "")

    health = get(deployment.nginx.https_port, "/healthz", tls=True)
    assert (health.status, json.loads(health.body)) == (200, {"status": "ok"})

    # The same request straight to Parley, without the proxy's header, is plain HTTP: redirected.
    direct = get(deployment.server.port, "/healthz", tls=False)
    assert (direct.status, direct.headers["Location"]) == (301, f"https://{SERVER_NAME}/healthz")


def test_metrics_are_not_served_through_nginx_but_to_a_scraper_on_the_machine(deployment: Deployment):
    through_nginx = get(deployment.nginx.https_port, "/metrics", tls=True)
    assert through_nginx.status == 403
    assert b"parley_" not in through_nginx.body
    # Prometheus on the same machine scrapes the process itself (as HTTPS, the way nginx would say it).
    direct = get(deployment.server.port, "/metrics", tls=False, headers={"X-Forwarded-Proto": "https"})
    assert direct.status == 200
    assert b"parley_sockets_open" in direct.body


def test_plain_http_is_sent_to_https_by_nginx(deployment: Deployment):
    response = get(deployment.nginx.http_port, "/healthz?x=1", tls=False)
    assert (response.status, response.headers["Location"]) == (301, f"https://{SERVER_NAME}/healthz?x=1")


def test_static_files_are_served_by_nginx(deployment: Deployment):
    page = get(deployment.nginx.https_port, "/", tls=True)
    stylesheet = re.search(rb'href="(/static/parley/parley\.[0-9a-f]+\.css)"', page.body)
    assert stylesheet is not None, "the page links no hashed stylesheet: collectstatic's manifest is not in use"
    path = stylesheet.group(1).decode()
    css = get(deployment.nginx.https_port, path, tls=True)
    assert css.status == 200
    assert css.body == (deployment.static / path.removeprefix("/static/")).read_bytes()
    assert "immutable" in ", ".join(css.headers.get_all("Cache-Control") or [])
    # Written after Parley started, so only nginx, reading the directory, can serve it.
    probe = get(deployment.nginx.https_port, f"/static/{PROBE}", tls=True)
    assert (probe.status, probe.body) == (200, b"served by nginx\n")


async def open_socket(deployment: Deployment, *, token: str, origin: str):
    return await connect(
        f"wss://{SERVER_NAME}:{deployment.nginx.https_port}/ws/",
        host="127.0.0.1",
        ssl=client_tls(),
        origin=origin,
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=10,
        close_timeout=1,
    )


async def recv(socket) -> dict:
    return received_frame(await socket.recv())


async def test_a_websocket_round_trip_through_nginx(deployment: Deployment):
    site = deployment.site
    reader = await open_socket(deployment, token=site.token("alice"), origin=deployment.origin)
    sender = await open_socket(deployment, token=site.token("bob"), origin=deployment.origin)
    try:
        await reader.send(json.dumps({"type": "subscribe", "room": ROOM}))
        subscribed = await recv(reader)
        assert subscribed["type"] == "subscribed", subscribed
        presence = await recv(reader)
        assert presence["type"] == "presence", presence
        body = f"through nginx to {deployment.server.kind}"
        client_id = f"deploy-{deployment.server.kind}"
        await sender.send(json.dumps({"type": "send", "room": ROOM, "body": body, "client_id": client_id}))
        ack = await recv(sender)
        assert ack["type"] == "ack", ack
        message = await recv(reader)
        assert (message["type"], message["seq"], message["body"]) == ("message", ack["seq"], body)
    finally:
        await reader.close()
        await sender.close()


async def test_a_foreign_origin_is_refused_through_nginx(deployment: Deployment):
    """Had nginx dropped Origin, Parley would take the socket for a non-browser one and accept it."""
    with pytest.raises(InvalidStatus) as refused:
        await open_socket(deployment, token=deployment.site.token("alice"), origin="https://evil.example")
    assert refused.value.response.status_code == 403


def post_form(port: int, path: str) -> int:
    """The status of a form POST (no CSRF token: Parley would answer 403) through nginx's TLS port."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=client_tls())
    try:
        body = "username=alice&password=guess"
        headers = {"Host": SERVER_NAME, "Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_log_in_posts_are_rate_limited_by_nginx(deployment: Deployment):
    """deploy/nginx.conf lets 10 log-in POSTs through at once (then one every 6 s) per address."""
    port = deployment.nginx.https_port
    statuses = [post_form(port, "/accounts/login/") for _ in range(16)]
    assert 429 not in statuses[:10], statuses
    assert statuses[-4:] == [429] * 4, statuses
    assert post_form(port, "/admin/login/") == 429  # the admin's log-in shares the limit
    # Only POSTs count: the page itself still loads.
    assert get(port, "/accounts/login/", tls=True).status == 200


def closed_after(connection: socket.socket, data: bytes) -> float:
    """Send ``data``, then the seconds until nginx closes the connection."""
    started = time.monotonic()
    connection.sendall(data)
    while connection.recv(4096):
        pass
    return time.monotonic() - started


def test_nginx_closes_half_sent_requests_after_client_header_timeout(nginx_factory, tmp_path: Path):
    """deploy/nginx.conf's client_header_timeout (10 s) on both servers; nothing needs to run behind."""
    nginx = nginx_factory(upstream_port=free_port(), static=tmp_path)
    half = b"GET /ws/ HTTP/1.1\r\nHost: chat.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"

    def plain() -> float:
        with socket.create_connection(("127.0.0.1", nginx.http_port), timeout=20) as connection:
            return closed_after(connection, half)

    def tls() -> float:
        raw = socket.create_connection(("127.0.0.1", nginx.https_port), timeout=20)
        with client_tls().wrap_socket(raw, server_hostname=SERVER_NAME) as connection:
            return closed_after(connection, half)

    with ThreadPoolExecutor(max_workers=2) as pool:
        took = [future.result() for future in [pool.submit(plain), pool.submit(tls)]]
    assert all(9 <= seconds <= 13 for seconds in took), took
