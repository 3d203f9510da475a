"""A server process killed with SIGKILL mid-stream: nothing acknowledged is lost, nothing doubled.

Two processes (Daphne and Uvicorn) serve one room over one PostgreSQL database and one channel
layer, 20 readers and 4 senders spread over both. One process is killed while messages flow;
its clients reconnect to the other: readers resubscribe from the last seq they saw, senders
resend every message not yet acknowledged with the same ``client_id``. Sends in flight at the
kill may have been stored with their ack lost, and a stored message's publish may have died
with the process: the resend must get the first ack back, and the surviving hub must repair
the gap from storage.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from conftest import needs, port_open
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.e2e.test_cross_process import RABBITMQ_URL
from tests.faults.traffic import PERSISTENT_CONNECTIONS, Traffic, stored_messages, summary
from tests.servers import NO_RATE_LIMITS

pytestmark = [pytest.mark.e2e]

READERS = 20
SENDERS = 4
# Each sender keeps up to WINDOW sends unacknowledged and sends one every INTERVAL seconds.
WINDOW = 4
INTERVAL = 0.01
BEFORE_KILL = 150  # messages acknowledged before the kill
AFTER_KILL = 200  # and after it, before the senders stop


@pytest.fixture(scope="module")
def site(site_factory, postgres_url: str) -> Site:
    return site_factory(
        rooms=(RoomSpec("crash-redis", guests=True), RoomSpec("crash-amqp", guests=True)),
        users=tuple(UserSpec(f"sender-{i}") for i in range(SENDERS)),
        database_url=postgres_url,
    )


def layer_url(layer: str, request: pytest.FixtureRequest) -> str:
    if layer == "amqp":
        needs("RabbitMQ", port_open("127.0.0.1", 5672), "run RabbitMQ on 127.0.0.1:5672 (guest/guest)")
        return RABBITMQ_URL
    return f"redis://127.0.0.1:6379/{request.getfixturevalue('claim_redis_db')()}"


@pytest.mark.parametrize(("layer", "victim"), [("redis", "daphne"), ("amqp", "uvicorn")])
async def test_a_killed_process_loses_and_doubles_nothing(
    site: Site, postgres_url: str, request: pytest.FixtureRequest, layer: str, victim: str
):
    env = {"CHANNEL_LAYER_URL": layer_url(layer, request), **PERSISTENT_CONNECTIONS, **NO_RATE_LIMITS}
    servers = [site.start("daphne", **env), site.start("uvicorn", **env)]
    killed = servers[0] if victim == "daphne" else servers[1]
    room = f"crash-{layer}"
    traffic = Traffic.for_site(site, servers, room, readers=READERS, senders=SENDERS, window=WINDOW, interval=INTERVAL)
    try:
        await traffic.start()
        await traffic.wait_acked(BEFORE_KILL, within=30)

        in_flight = traffic.in_flight(killed.ws_url)
        in_flight_all = traffic.in_flight()
        killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
        await asyncio.to_thread(killed.kill)
        head_at_kill, _ = await asyncio.to_thread(stored_messages, postgres_url, room)
        await traffic.wait_readers(head_at_kill, within=20)
        caught_up = time.monotonic() - killed_at

        await traffic.wait_acked(traffic.acked() + AFTER_KILL, within=30)
        head = await traffic.finish(within=30)

        traffic.check_readers(head)
        _, stored = traffic.check_storage(postgres_url)
        # Resent after the kill, but stored before it: their first ack was lost with the process.
        ack_lost = [m.client_id for m in stored if m.client_id in traffic.resent() and m.created_at < killed_wall]
        moved = [reader for reader in traffic.readers if reader.sessions > 1]
        print(
            f"\n[{layer}, {victim} killed] head {head}; at the kill {in_flight} send(s) in flight on the killed"
            f" process ({in_flight_all} in all), stored head {head_at_kill}; {len(traffic.resent())} resent, of"
            f" which {len(ack_lost)} had been stored (ack lost); readers moved {len(moved)};"
            f" reader reconnects {summary(traffic.reader_repairs())}; sender reconnects"
            f" {summary(traffic.sender_repairs())}; every reader had the stored head {caught_up * 1000:.0f} ms"
            " after the kill"
        )
        assert len(moved) == READERS // 2, "the killed process's readers, and only they, reconnect"
    finally:
        await traffic.close()
        for server in servers:
            server.stop()
