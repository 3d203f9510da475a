"""Redis restarted mid-run under the channel layer: both processes stay up and lose nothing.

Redis comes back empty, so the hubs' group memberships are gone: each hub must notice and join
its groups again, and meanwhile the head sweep delivers what was stored from the database. The
readers keep their sockets throughout; at the end every one holds exactly seqs 1..N, the room
holds exactly the acknowledged messages, and messages sent once Redis is back travel through
the layer again (fast), not only through the once-a-second sweep.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from tests.e2e.client import Connect
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.faults.dependencies import redis_start, redis_stop
from tests.faults.traffic import PERSISTENT_CONNECTIONS, Traffic, error_lines, summary
from tests.servers import NO_RATE_LIMITS

pytestmark = [pytest.mark.e2e]

READERS = 20
SENDERS = 4
WINDOW = 4
INTERVAL = 0.01
DOWN = 2.0  # seconds Redis stays down
SWEEP = 1.0  # PARLEY_SWEEP_INTERVAL, the default
# Once Redis is back, a hub has re-joined its groups within a sweep or two; from then on messages
# come through the layer as fast as before the restart, not a sweep and a gap wait later (0.25 to
# 1.25 s: the head sweep runs every second, then the gap repair waits PARLEY_GAP_WAIT).
SETTLE = 3 * SWEEP


@pytest.fixture(scope="module")
def site(site_factory, postgres_url: str) -> Site:
    return site_factory(
        rooms=(RoomSpec("redis-restart", guests=True), RoomSpec("redis-idle", guests=True)),
        users=tuple(UserSpec(f"sender-{i}") for i in range(SENDERS)),
        database_url=postgres_url,
    )


@pytest.mark.usefixtures("restarts_redis")
async def test_a_redis_restart_loses_and_doubles_nothing(site: Site, postgres_url: str, claim_redis_db):
    env = {
        "CHANNEL_LAYER_URL": f"redis://127.0.0.1:6379/{claim_redis_db()}",
        "PARLEY_SWEEP_INTERVAL": str(SWEEP),
        **PERSISTENT_CONNECTIONS,
        **NO_RATE_LIMITS,
    }
    servers = [site.start("daphne", **env), site.start("uvicorn", **env)]
    traffic = Traffic.for_site(
        site, servers, "redis-restart", readers=READERS, senders=SENDERS, window=WINDOW, interval=INTERVAL
    )
    try:
        await traffic.start()
        await traffic.wait_acked(150, within=30)
        try:
            await asyncio.to_thread(redis_stop)
            stopped_at = time.monotonic()
            await asyncio.sleep(DOWN)
        finally:
            await asyncio.to_thread(redis_start)
        back_at = time.monotonic()
        acked_while_down = traffic.acks_between(stopped_at, back_at)

        await asyncio.sleep(SETTLE)
        live_from = time.monotonic()
        await traffic.wait_acked(traffic.acked() + 200, within=30)
        head = await traffic.finish(within=30)

        traffic.check_readers(head)
        traffic.check_storage(postgres_url)
        before = statistics.median(traffic.latencies_of_messages_sent_between(0, stopped_at))
        during = traffic.latencies_of_messages_sent_between(stopped_at, back_at)
        live = statistics.median(traffic.latencies_of_messages_sent_between(live_from, time.monotonic()))
        print(
            f"\n[redis restart] head {head}; Redis down {back_at - stopped_at:.1f} s, {acked_while_down} acked"
            f" meanwhile; median latency before the restart {before * 1000:.0f} ms, of messages sent while it"
            f" was down {statistics.median(during) * 1000:.0f} ms (max {max(during) * 1000:.0f} ms), from"
            f" {SETTLE:.0f} s after it was back {live * 1000:.0f} ms; reader reconnects"
            f" {summary(traffic.reader_repairs())}"
        )
        assert acked_while_down > 0, "sends must still be stored and acknowledged while the layer is down"
        assert all(reader.sessions == 1 for reader in traffic.readers), "readers keep their sockets"
        for server in servers:
            errors = error_lines(server.output())
            assert len(errors) <= 5, f"{server.kind} logged {len(errors)} errors for one outage: {errors[:10]}"
        assert live <= 2 * before + 0.1, (
            f"{SETTLE:.0f} s after Redis came back, messages take {live * 1000:.0f} ms (median), against"
            f" {before * 1000:.0f} ms before: the hubs have not re-joined their groups, only the sweep delivers"
        )
    finally:
        await traffic.close()
        for server in servers:
            server.stop()


async def test_an_idle_process_reports_no_layer_outage(site: Site, claim_redis_db, connect: Connect):
    """A hub whose channel stays quiet for longer than one blocking receive (channels_redis waits
    5 s per BZPOPMIN) is not in an outage: no error is logged, and messages still flow."""
    server = site.start("uvicorn", CHANNEL_LAYER_URL=f"redis://127.0.0.1:6379/{claim_redis_db()}")
    try:
        reader = await connect(server, name="idle")
        assert (await reader.request({"type": "subscribe", "room": "redis-idle"}))["type"] == "subscribed"
        await asyncio.sleep(7)
        sender = await connect(server, token=site.token("sender-0"))
        frame = {"type": "send", "room": "redis-idle", "body": "after a quiet spell", "client_id": "q-1"}
        assert (await sender.request(frame))["type"] == "ack"
        assert (await reader.recv())["body"] == "after a quiet spell"
        errors = error_lines(server.output())
        assert not errors, f"a quiet hub reported errors: {errors}"
    finally:
        server.stop()
