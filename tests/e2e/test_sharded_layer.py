"""The channel layer spread over two Redis servers (CHANNEL_LAYER_URL a list of URLs): channels_redis
shards channels and groups over them by consistent hashing, and messages still travel between two
server processes, each in order, whichever shard their room's group is on."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from conftest import needs
from tests.e2e.client import Connect
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.servers import NO_RATE_LIMITS, free_port

pytestmark = [pytest.mark.e2e]

# Ten rooms' groups, the hubs' channels and the token group are dealt over two shards: the chance
# that all of them land on one is below one in four thousand.
ROOMS = 10
MESSAGES = 10


@pytest.fixture(scope="module")
def site(site_factory) -> Site:
    return site_factory(
        rooms=tuple(RoomSpec(f"shard-{i}", guests=True) for i in range(ROOMS)), users=(UserSpec("alice"),)
    )


@pytest.fixture
def shards(tmp_path: Path) -> Iterator[list[int]]:
    """Two Redis servers of the test's own; their ports."""
    needs("redis-server", shutil.which("redis-server") is not None, "apt-get install redis-server")
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            answering(port)
        yield ports
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)


def answering(port: int) -> None:
    for _ in range(100):
        try:
            with redis.Redis(port=port) as client:
                client.ping()
                return
        except redis.ConnectionError:
            subprocess.run(["sleep", "0.05"], check=True)
    raise AssertionError(f"redis-server on {port} did not answer")


def commands(port: int, *names: str) -> int:
    """How many of these commands the server has run."""
    with redis.Redis(port=port) as client:
        stats = client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in names)


# What a group send runs on the shard of its group: RedisChannelLayer reads the group's members
# there (and delivers on the shard of each member's channel); the pub/sub layer publishes there.
GROUP_SEND = {"redis": ("zrange", "zremrangebyscore"), "redis+pubsub": ("publish",)}


@pytest.mark.parametrize(("scheme", "sends"), list(GROUP_SEND.items()))
async def test_messages_travel_between_processes_over_two_shards(
    site: Site, shards: list[int], connect: Connect, scheme: str, sends: tuple[str, ...]
):
    url = " ".join(f"{scheme}://127.0.0.1:{port}/0" for port in shards)
    env = {"CHANNEL_LAYER_URL": url, "PARLEY_TASKS": "inline", **NO_RATE_LIMITS}
    servers = [site.start("daphne", **env), site.start("uvicorn", **env)]
    try:
        sender = await connect(servers[0], token=site.token("alice"))
        readers = [await connect(servers[1], name=f"reader-{i}") for i in range(ROOMS)]
        for i, reader in enumerate(readers):
            assert (await reader.request({"type": "subscribe", "room": f"shard-{i}"}))["type"] == "subscribed"
        before = [commands(port, *sends) for port in shards]
        for n in range(MESSAGES):
            for i in range(ROOMS):
                frame = {"type": "send", "room": f"shard-{i}", "body": f"{n}", "client_id": f"{scheme}-{i}-{n}"}
                assert (await sender.request(frame))["type"] == "ack"
        for reader in readers:
            bodies = [(await asyncio.wait_for(reader.recv(), 10))["body"] for _ in range(MESSAGES)]
            assert bodies == [str(n) for n in range(MESSAGES)]
        used = [commands(port, *sends) - count for port, count in zip(shards, before, strict=True)]
        assert all(count > 0 for count in used), f"group sends per shard: {used}"
    finally:
        for server in servers:
            server.stop()
