"""Redis Sentinel failover under traffic: the master is SIGKILLed mid-stream and nothing is lost.

The test runs its own Redis master, replica and three Sentinels (tests/faults/sentinels.py), and
two Parley processes of different servers (Daphne and Uvicorn) whose channel layer and state
(``REDIS_URL``: presence, who is online, rate limits) both name the master through the sentinels,
on a PostgreSQL database of its own. Readers and senders are spread over both processes. While
they run, the master is killed; the sentinels promote the replica, and every Redis client Parley
holds finds the new master on its next connection.

At the end every reader holds exactly seqs 1..N, the room holds exactly the acknowledged messages,
presence still travels between the processes and one user's rate limit is again counted once
across both. The time from the kill until deliveries are as fast as before it is printed: the
README's failover figure.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import needs
from tests.e2e.client import Connect
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.faults.databases import own_postgres_database
from tests.faults.sentinels import SentinelGroup
from tests.faults.traffic import PERSISTENT_CONNECTIONS, Traffic, error_lines, summary
from tests.servers import NO_RATE_LIMITS

pytestmark = [pytest.mark.e2e]

READERS = 12
SENDERS = 4
WINDOW = 4
INTERVAL = 0.01
# History requests are limited to a burst of 3 per user, refilled so slowly (one per 30 s) that
# nothing leaves the window during the test: a fourth request anywhere is refused only if both
# processes count in Redis together.
HISTORY_BURST = 3
LIMITS = {**NO_RATE_LIMITS, "PARLEY_HISTORY_RATE": f"0.1/{HISTORY_BURST}"}
LIMIT_PROBES = 15  # users kept for probing the shared limit, one per probe
# Deliveries are "back" once the median latency is within twice that before the kill and this.
BACK_TO_NORMAL = 0.1


@pytest.fixture(scope="module")
def failover_database() -> Iterator[str]:
    with own_postgres_database("parley_failover") as url:
        yield url


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelGroup]:
    needs(
        "redis-server and redis-sentinel",
        SentinelGroup.available(),
        "apt-get install redis-server redis-sentinel (make system-packages)",
    )
    group = SentinelGroup(tmp_path / "redis")
    group.directory.mkdir()
    try:
        yield group.start()
    finally:
        group.stop()


@pytest.fixture(scope="module")
def site(site_factory, failover_database: str) -> Site:
    users = [f"sender-{i}" for i in range(SENDERS)] + ["alice", "bob"]
    users += [f"limited-{i}" for i in range(LIMIT_PROBES)]
    return site_factory(
        rooms=(*(RoomSpec(room, guests=True) for room in LAYERS.values()), RoomSpec("failover-presence")),
        users=tuple(UserSpec(name) for name in users),
        database_url=failover_database,
    )


# Each layer's run has a room of its own (the site is the module's).
LAYERS = {"redis+sentinel": "failover-core", "redis+pubsub+sentinel": "failover-pubsub"}


@pytest.mark.parametrize("layer", list(LAYERS))
async def test_a_killed_master_loses_and_doubles_nothing(
    site: Site, failover_database: str, sentinels: SentinelGroup, connect: Connect, layer: str
):
    env = {
        "CHANNEL_LAYER_URL": sentinels.url(0).replace("redis+sentinel", layer),
        "REDIS_URL": sentinels.url(1),
        **PERSISTENT_CONNECTIONS,
        **LIMITS,
    }
    servers = [site.start("daphne", **env), site.start("uvicorn", **env)]
    traffic = Traffic.for_site(
        site, servers, LAYERS[layer], readers=READERS, senders=SENDERS, window=WINDOW, interval=INTERVAL
    )
    try:
        await traffic.start()
        await traffic.wait_acked(150, within=30)
        killed_at = time.monotonic()
        await asyncio.to_thread(sentinels.kill_master)
        promoted_at = await asyncio.to_thread(sentinels.wait_promoted)
        acked_at_kill = traffic.acked()
        # Sends go on throughout; the failover must be long over before the last of them.
        await traffic.wait_acked(acked_at_kill + 300, within=30)
        head = await traffic.finish(within=30)
        finished_at = time.monotonic()

        traffic.check_readers(head)
        traffic.check_storage(failover_database)

        await presence_travels_between(site, servers, connect)
        probes = await shared_limit_holds_again(site, servers, connect)

        before = statistics.median(traffic.latencies_of_messages_sent_between(0, killed_at))
        around = traffic.latencies_of_messages_sent_between(killed_at - 1, finished_at)
        resumed = delivery_resumed(traffic, killed_at, 2 * before + BACK_TO_NORMAL)
        print(
            f"\n[sentinel failover, {layer}://] head {head}; master SIGKILLed, replica promoted after"
            f" {promoted_at - killed_at:.2f} s; deliveries as fast as before for messages sent from {resumed:.1f} s"
            " after the kill"
            f" (median latency before {before * 1000:.0f} ms, of messages sent from 1 s before the kill to the"
            f" end: median {statistics.median(around) * 1000:.0f} ms, max {max(around) * 1000:.0f} ms);"
            f" {traffic.acked() - acked_at_kill} acked after the kill; reader reconnects"
            f" {summary(traffic.reader_repairs())}; shared rate limit counted across processes again"
            f" after {probes} probe(s); errors logged: {[len(error_lines(s.output())) for s in servers]}"
        )
        print(
            f"[sentinel failover, {layer}://] median (max) latency by second of sending, from the kill:",
            timeline(traffic, killed_at),
        )
        assert all(reader.sessions == 1 for reader in traffic.readers), "readers keep their sockets"
        # While the master is away, channels_redis's pub/sub reader logs each second, and Parley's
        # outage log each time the layer fails again after answering: a few lines a second of it.
        allowed = 4 + 3 * math.ceil(promoted_at - killed_at)
        for server in servers:
            errors = error_lines(server.output())
            assert len(errors) <= allowed, f"{server.kind} logged {len(errors)} errors for one failover: {errors[:10]}"
    finally:
        await traffic.close()
        for server in servers:
            server.stop()


async def presence_travels_between(site: Site, servers, connect: Connect) -> None:
    """Someone arriving on one process is announced to someone already there on the other."""
    alice = await connect(servers[0], token=site.token("alice"))
    bob = await connect(servers[1], token=site.token("bob"))
    for client in (alice, bob):
        client.ignore = ()
    assert (await alice.request({"type": "subscribe", "room": "failover-presence"}))["type"] == "subscribed"
    assert (await alice.recv())["type"] == "presence"
    assert (await bob.request({"type": "subscribe", "room": "failover-presence"}))["type"] == "subscribed"
    seen_by_bob = await asyncio.wait_for(bob.recv(), 5)
    assert [person["name"] for person in seen_by_bob["online"]] == ["alice", "bob"]
    joined = await asyncio.wait_for(alice.recv(), 5)
    assert (joined["type"], [person["name"] for person in joined["joined"]]) == ("presence_diff", ["bob"])


async def shared_limit_holds_again(site: Site, servers, connect: Connect) -> int:
    """Requests of one user on both processes count against one bucket in Redis again (while Redis
    is away each process counts alone, and tries Redis again after a few seconds). Each probe is a
    fresh user spending the burst over both processes, then one more request; returns the probes
    it took until that one was refused."""
    for probe in range(LIMIT_PROBES):
        clients = [await connect(server, token=site.token(f"limited-{probe}")) for server in servers]
        answers = [
            await clients[i % 2].request({"type": "history", "room": "failover-presence", "limit": 1})
            for i in range(HISTORY_BURST + 1)
        ]
        kinds = [answer["type"] for answer in answers]
        assert kinds[:HISTORY_BURST] == ["history"] * HISTORY_BURST, kinds
        if answers[-1].get("code") == "rate_limited":
            return probe + 1
        await asyncio.sleep(1)
    raise AssertionError(f"after {LIMIT_PROBES} probes, each process still counts a user's requests alone")


def delivery_resumed(traffic: Traffic, killed_at: float, normal: float) -> float:
    """Seconds from the kill to the first half second of sending from which every half second's
    messages have a median latency within ``normal``: when deliveries are as fast as before."""
    buckets = latency_buckets(traffic, killed_at, width=0.5)
    resumed = 0.0
    for start, values in sorted(buckets.items()):
        if start >= 0 and statistics.median(values) > normal:
            resumed = start + 0.5
    return resumed


def latency_buckets(traffic: Traffic, killed_at: float, width: float) -> dict[float, list[float]]:
    """Latencies of the messages sent from one second before the kill, by ``width`` seconds of sending."""
    buckets: dict[float, list[float]] = {}
    for reader in traffic.readers:
        for sent, latency in zip(reader.sent, reader.latencies, strict=True):
            if sent >= killed_at - 1:
                start = (sent - killed_at) // width * width
                buckets.setdefault(start, []).append(latency)
    return buckets


def timeline(traffic: Traffic, killed_at: float) -> str:
    """Median and max latency (ms) of the messages sent in each second from one before the kill."""
    return "; ".join(
        f"{start:+.0f}s {statistics.median(values) * 1000:.0f} ({max(values) * 1000:.0f})"
        for start, values in sorted(latency_buckets(traffic, killed_at, width=1.0).items())
    )
