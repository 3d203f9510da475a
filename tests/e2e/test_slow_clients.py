"""Slow-loris: a server started as the README says closes a connection whose request header does not
arrive within ``PARLEY_HEADER_TIMEOUT`` seconds (half an HTTP request, half a WebSocket upgrade,
or nothing at all), answering 408; complete requests and open WebSockets are not affected.

Uvicorn (``--http parley.ops.servers:HeaderTimeoutProtocol``) and Gunicorn (``deploy/gunicorn.conf.py``'s
worker class) are tested with a 2-second timeout (the default is 10). Daphne has no such setting:
Twisted closes a connection only after 60 idle seconds, and a client that sends a byte now and
then keeps it for ever; the README puts nginx in front of it (``client_header_timeout``,
tests/deploy/test_nginx.py).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator

import pytest

from tests.e2e.client import Client
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.servers import ServerProcess

pytestmark = [pytest.mark.e2e]

TIMEOUT = 2.0
HALF_REQUESTS = {
    "nothing": b"",
    "half an HTTP request": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    "half a WebSocket upgrade": (
        b"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\n"
    ),
}


@pytest.fixture(scope="module")
def site(site_factory) -> Site:
    return site_factory(rooms=(RoomSpec("slow"),), users=(UserSpec("alice"),))


@pytest.fixture(scope="module", params=["uvicorn", "gunicorn"])
def server(request: pytest.FixtureRequest, site: Site) -> Iterator[ServerProcess]:
    server = site.start(request.param, PARLEY_HEADER_TIMEOUT=str(TIMEOUT))
    yield server
    server.stop()


def closed_after(port: int, data: bytes, *, drip: float = 0.0) -> tuple[float, bytes]:
    """Send ``data`` (a byte every ``drip`` seconds, if given), then wait for the server to close;
    the seconds it took from connecting, and what it answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT + 5) as connection:
        started = time.monotonic()
        if drip:
            connection.settimeout(drip)
            for byte in data:
                try:
                    connection.sendall(bytes([byte]))
                    if answer := connection.recv(4096):
                        return time.monotonic() - started, answer
                except TimeoutError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    return time.monotonic() - started, b""
            connection.settimeout(TIMEOUT + 5)
        else:
            connection.sendall(data)
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
        return time.monotonic() - started, answer


@pytest.mark.parametrize("what", list(HALF_REQUESTS))
def test_a_request_header_that_does_not_arrive_in_time_is_closed(server: ServerProcess, what: str):
    took, answer = closed_after(server.port, HALF_REQUESTS[what])
    assert TIMEOUT - 0.2 <= took <= TIMEOUT + 2, took
    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_a_header_dripped_a_byte_at_a_time_is_closed_too(server: ServerProcess):
    """Slow-loris proper: every byte comes before an idle timeout would fire, the whole never does."""
    header = HALF_REQUESTS["half a WebSocket upgrade"] + b"X-Padding: " + b"a" * 200
    took, answer = closed_after(server.port, header, drip=0.2)
    assert took <= TIMEOUT + 2, took
    assert answer.startswith(b"HTTP/1.1 408 ") or answer == b"", answer


def test_a_request_whose_header_comes_in_parts_within_the_timeout_is_served(server: ServerProcess):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(TIMEOUT / 2)
        connection.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert b'{"status": "ok"}' in answer


async def test_an_open_websocket_outlives_the_header_timeout(server: ServerProcess, site: Site):
    client = await Client.open(f"{server.ws_url}/ws/", token=site.token("alice"))
    try:
        await asyncio.sleep(TIMEOUT + 0.5)
        await client.send({"type": "subscribe", "room": "slow", "ref": 1})
        frame = await client.recv()
        assert frame["type"] == "subscribed", json.dumps(frame)
    finally:
        await client.close()
