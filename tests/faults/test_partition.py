"""Two Parley hosts on one machine, one of them cut off from the network while traffic flows.

The test builds its own hosts with network namespaces (tests/faults/netns.py): Parley host A
(Uvicorn) and host B (Daphne), and a client host C whose readers and senders are spread over both.
This machine's PostgreSQL and Redis are reached across the links (through
tests/faults/forwarder.py), with 20 ms added to everything a Parley host sends to Redis: the
path a message takes from one host to the other. (The delay is the forwarder's, not ``tc netem``'s:
the kernels this runs on may have no sch_netem, and delaying PostgreSQL as well would measure
the database's round trips rather than the hop between hosts.) Host A's link goes down
for several seconds: its clients find it silent, reconnect to B and resume from where they were
(readers from their last seq, senders resending what was not acknowledged, with the same
client_id); nothing is lost or doubled. When the link comes back, a reader that joins on A gets
the whole room and what is sent afterwards: A's hub is back in the channel layer and repaired
from storage. The delivery latency with the added delay is printed (the README's figure).

Where namespaces cannot be made (not root, no iproute2) the test skips and says why.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import needs
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.faults.clients import IDLE, Reader
from tests.faults.databases import own_postgres_database
from tests.faults.netns import NamespacedServer, NamespaceLoop, Network
from tests.faults.traffic import PERSISTENT_CONNECTIONS, Traffic, percentile, summary
from tests.servers import NO_RATE_LIMITS, REPO, free_port

pytestmark = [pytest.mark.e2e]

READERS = 8
SENDERS = 4
WINDOW = 4
# Ten sends a second per sender, as in the runs the README's earlier figures come from (then each
# process published one event after another, at most about fifty a second with 20 ms to Redis; its
# publisher now sends what queues up meanwhile as one pipeline, parley.events.pipelining).
INTERVAL = 0.1
DELAY_MS = 20
STEADY = 4.0  # seconds of traffic before the cut, for the latency figure
# The cut host's open transaction (holding its room's row) is ended by PostgreSQL after this
# (DATABASE_IDLE_IN_TRANSACTION_TIMEOUT); until then the other host cannot allocate that room's seqs.
STALE_TRANSACTION = 3.0
# Long enough for every client of the cut host to find it silent (IDLE, then IDLE more after a
# ping) and move to the other host, and for the other host to be writing again, while the link is
# still down.
PARTITION = 2 * IDLE + 4.0


@pytest.fixture(scope="module")
def partition_database() -> Iterator[str]:
    with own_postgres_database("parley_partition") as url:
        yield url


@pytest.fixture
def network() -> Iterator[Network]:
    reason = Network.unavailable()
    needs("network namespaces", reason is None, reason or "")
    network = Network()
    try:
        yield network.create()
    finally:
        network.remove()


@pytest.fixture(scope="module")
def site(site_factory, partition_database: str) -> Site:
    return site_factory(
        rooms=(RoomSpec("partition", guests=True),),
        users=tuple(UserSpec(f"sender-{i}") for i in range(SENDERS)),
        database_url=partition_database,
    )


async def test_a_partitioned_host_loses_and_doubles_nothing_and_rejoins(
    site: Site, partition_database: str, network: Network, claim_redis_db, tmp_path: Path
):
    host_a, host_b = network.add_host("a", 11), network.add_host("b", 12)
    network.add_host("c", 20)
    forwarder, database_url, redis_url = start_forwarder(network, partition_database, claim_redis_db())
    env = {
        **site.env,
        "DATABASE_URL": database_url,
        # The layer the README recommends for production; RedisChannelLayer pays several round
        # trips per event received and per group send, so 20 ms to Redis caps each process at
        # about a dozen events a second a room (measured: 86 ms a group_send, 85 ms a receive).
        "CHANNEL_LAYER_URL": redis_url.replace("redis://", "redis+pubsub://"),
        "REDIS_URL": redis_url,
        "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": str(STALE_TRANSACTION),
        "PARLEY_REPLAY_LIMIT": "100000",  # the late reader replays the whole room at once
        **PERSISTENT_CONNECTIONS,
        **NO_RATE_LIMITS,
    }
    servers = [
        NamespacedServer(env, tmp_path / "a.log", "uvicorn", namespace=network.namespace("a"), address=host_a),
        NamespacedServer(env, tmp_path / "b.log", "daphne", namespace=network.namespace("b"), address=host_b),
    ]
    clients: NamespaceLoop | None = None
    traffic: Traffic | None = None
    try:
        for server in servers:
            server.start()
        clients = NamespaceLoop(network.namespace("c"))
        traffic = Traffic.for_site(
            site, servers, "partition", readers=READERS, senders=SENDERS, window=WINDOW, interval=INTERVAL
        )
        await clients.run(traffic.start(within=30))
        steady_from = time.monotonic() + 1.0
        await asyncio.sleep(STEADY)
        await clients.run(traffic.wait_acked(100, within=30))

        steady = traffic.latencies_of_messages_sent_between(steady_from, time.monotonic())  # delivered so far
        cut_at = time.monotonic()
        network.partition("a")
        await asyncio.sleep(PARTITION)
        network.heal("a")
        healed_at = time.monotonic()
        acked_while_cut = traffic.acks_between(cut_at, healed_at)
        acked_once_unlocked = traffic.acks_between(cut_at + STALE_TRANSACTION + 1.0, healed_at)

        late = await clients.run(join_reader(traffic, [servers[0].ws_url], "late-on-a"))
        await clients.run(late.wait_subscribed(within=30))
        await clients.run(traffic.wait_acked(traffic.acked() + 150, within=30))
        head = await clients.run(traffic.finish(within=30))

        traffic.check_readers(head)
        traffic.check_storage(partition_database)
        on_a = [reader for i, reader in enumerate(traffic.readers[:READERS]) if i % 2 == 0]
        print(
            f"\n[partition] head {head}; host A cut off for {healed_at - cut_at:.1f} s, {acked_while_cut} messages"
            f" acknowledged meanwhile; A's readers back in business on B after {summary(traffic.reader_repairs())};"
            f" senders after {summary(traffic.sender_repairs())}; {len(traffic.resent())} sends resent;"
            f" delivery latency (sender's host to Redis to reader's host; half the pairs on different hosts)"
            f" with {DELAY_MS} ms added to each host's path to Redis: median"
            f" {statistics.median(steady) * 1000:.0f} ms, p95 {percentile(steady, 0.95) * 1000:.0f} ms"
        )
        assert acked_once_unlocked > 0, "host B acknowledges sends while A is still cut off"
        assert all(reader.sessions >= 2 for reader in on_a), "every reader of host A moved to B"
        assert late.sessions == 1, "the reader joining host A after the partition keeps its socket"
        assert late.seqs == list(range(1, head + 1)), "host A serves the whole room again"
    finally:
        if clients is not None:
            if traffic is not None:
                await clients.run(traffic.close())
            clients.close()
        for server in servers:
            server.stop()
        forwarder.kill()
        forwarder.wait(timeout=10)


async def join_reader(traffic: Traffic, urls: list[str], name: str) -> Reader:
    """A reader that joins now, from seq 0 (run on the clients' loop, where its task must live)."""
    return traffic.add_reader(urls, name)


def start_forwarder(network: Network, database_url: str, redis_db: int) -> tuple[subprocess.Popen[str], str, str]:
    """Forward the bridge's PostgreSQL and Redis ports to this machine's (Redis with the delay);
    the URLs the hosts use."""
    postgres_port, redis_port = free_port(), free_port()
    routes = [
        f"{network.gateway}:{postgres_port}=127.0.0.1:5432",
        f"{network.gateway}:{redis_port}=127.0.0.1:6379@{DELAY_MS / 1000}",
    ]
    forwarder = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.forwarder", *routes],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert forwarder.stdout is not None
    assert forwarder.stdout.readline().strip() == "listening"
    hosts_database = database_url.replace("127.0.0.1:5432", f"{network.gateway}:{postgres_port}")
    return forwarder, hosts_database, f"redis://{network.gateway}:{redis_port}/{redis_db}"
