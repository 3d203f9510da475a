"""Rate limits across two server processes (Daphne and Uvicorn): with REDIS_URL, one user's sends
and one address's handshakes count against the same buckets on both; without it, each process
keeps its own.

The rates are slowed (the bursts are the real ones): in Redis a bucket is a moving window of
``burst`` hits per ``burst / rate`` seconds, and at the default rate a hit leaves the window after
2 s, which a loaded machine can take to run these steps. At one hit per 10 s nothing leaves the
window during a test, so what is counted does not depend on how fast the machine is.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.client import Client, Connect
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.servers import ServerProcess

pytestmark = [pytest.mark.e2e]

SEND_BURST = 20  # PARLEY_SEND_RATE's default burst
SLOW_SENDS = {"PARLEY_SEND_RATE": f"0.1/{SEND_BURST}"}
HANDSHAKE_BURST = 5
SLOW_HANDSHAKES = {"PARLEY_HANDSHAKE_RATE": f"0.1/{HANDSHAKE_BURST}"}


@pytest.fixture(scope="module")
def site(site_factory) -> Site:
    return site_factory(rooms=(RoomSpec("limited"),), users=(UserSpec("alice"), UserSpec("bob")))


def start_two(site: Site, **env: str) -> list[ServerProcess]:
    return [site.start("daphne", **env), site.start("uvicorn", **env)]


async def send(client: Client, client_id: str) -> dict:
    return await client.request({"type": "send", "room": "limited", "body": client_id, "client_id": client_id})


async def stored(client: Client) -> list[str]:
    page = await client.request({"type": "history", "room": "limited", "limit": 100})
    return [message["client_id"] for message in page["messages"]]


async def test_one_users_sends_count_once_across_processes(
    site: Site, connect: Connect, claim_redis_db: Callable[[], int]
):
    servers = start_two(site, REDIS_URL=f"redis://127.0.0.1:6379/{claim_redis_db()}", **SLOW_SENDS)
    try:
        on_daphne = await connect(servers[0], token=site.token("alice"))
        on_uvicorn = await connect(servers[1], token=site.token("alice"))
        for i in range(SEND_BURST // 2):
            assert (await send(on_daphne, f"shared-d{i}"))["type"] == "ack"
            assert (await send(on_uvicorn, f"shared-u{i}"))["type"] == "ack"

        for client, client_id in ((on_daphne, "shared-d-over"), (on_uvicorn, "shared-u-over")):
            error = await send(client, client_id)
            assert (error["type"], error["code"]) == ("error", "rate_limited")
            assert error["retry_after"] > 0
        bob = await connect(servers[1], token=site.token("bob"))
        assert (await send(bob, "shared-bob"))["type"] == "ack"

        ids = await stored(bob)
        assert "shared-d-over" not in ids
        assert "shared-u-over" not in ids
        assert sum(client_id.startswith("shared-") for client_id in ids) == SEND_BURST + 1
        assert await on_daphne.request({"type": "ping"}) == {"type": "pong"}
    finally:
        for server in servers:
            server.stop()


async def test_without_redis_each_process_keeps_its_own_limits(site: Site, connect: Connect):
    servers = start_two(site, **SLOW_SENDS)
    try:
        for server, name in zip(servers, ("own-d", "own-u"), strict=True):
            client = await connect(server, token=site.token("alice"))
            for i in range(SEND_BURST):
                assert (await send(client, f"{name}{i}"))["type"] == "ack"
            assert (await send(client, f"{name}-over"))["code"] == "rate_limited"
    finally:
        for server in servers:
            server.stop()


async def test_handshakes_from_one_address_count_once_across_processes(
    site: Site, connect: Connect, claim_redis_db: Callable[[], int]
):
    servers = start_two(site, REDIS_URL=f"redis://127.0.0.1:6379/{claim_redis_db()}", **SLOW_HANDSHAKES)
    try:
        for i in range(HANDSHAKE_BURST):
            client = await connect(servers[i % 2], token=site.token("alice"))
            assert await client.request({"type": "ping"}) == {"type": "pong"}
        for server in servers:
            refused = await connect(server, token=site.token("alice"))
            frames, code = await refused.closed()
            assert [(frame["code"], frame["retry_after"] > 0) for frame in frames] == [("rate_limited", True)]
            assert code == 4429
    finally:
        for server in servers:
            server.stop()
