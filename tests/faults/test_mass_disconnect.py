"""A thousand sockets of one process dropped at once (a proxy reload, a network blip).

Every socket was someone present in a room, so the process has a thousand presence releases to
make in Redis at the same moment. With redis-py's default pool (at most 100 connections, raising
beyond) a burst of 150 failed with "Too many connections", logged tracebacks and a false Redis
outage, and left presence stale on the other processes for up to ``PARLEY_PRESENCE_TTL``. Parley's
pools wait for a connection instead (``parley.redis_urls``): the log stays clean and another
process shows the right people within a second, and its sockets hear everyone leave within two.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import redis.asyncio as aredis
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as open_socket

from tests.e2e.client import Client, Connect
from tests.e2e.site import RoomSpec, Site
from tests.faults.traffic import error_lines, traceback_count
from tests.servers import NO_RATE_LIMITS, ServerProcess

pytestmark = [pytest.mark.e2e]

SOCKETS = 1000
# Twenty people a room: everyone in a room hears everyone else arrive, so one room of a thousand
# would be half a million frames before the test even starts.
ROOMS = 50
OPENING_AT_ONCE = 100
WITHIN = 1.0  # the crowd's claims are gone from Redis (what every process answers from) this soon
# The frames announcing the departures follow: one rooms.frames event a batch of releases, which
# the crowded process's publisher sends with whatever else queued meanwhile. 0.3-0.9 s on a
# two-core machine at load 5-9 (1.1-2.3 s with an event a room, each waiting for the one before).
ANNOUNCED_WITHIN = 2.0
WAIT = 15.0  # how long the test waits for the claims and the frames at most, to say how late they were


@pytest.fixture(scope="module")
def site(site_factory) -> Site:
    return site_factory(rooms=tuple(RoomSpec(f"crowd-{i}", guests=True) for i in range(ROOMS)))


async def open_present(server: ServerProcess, index: int) -> ClientConnection:
    """A guest's socket, subscribed to its room (so present there) once this returns.

    Nothing reads it afterwards, so its queue of frames is unbounded: a bounded one stops reading
    from the network once full, the server's keepalive pings then go unanswered, and the server
    closes the socket before the test does."""
    url = f"{server.ws_url}/ws/?name=guest-{index}"
    socket = await open_socket(url, open_timeout=30, max_size=None, max_queue=None)
    await socket.send(json.dumps({"type": "subscribe", "room": f"crowd-{index % ROOMS}"}))
    async with asyncio.timeout(30):
        while json.loads(await socket.recv())["type"] != "subscribed":
            pass
    return socket


async def test_a_thousand_sockets_closing_at_once_leave_a_clean_log_and_presence_right(
    site: Site, connect: Connect, claim_redis_db
):
    redis_url = f"redis://127.0.0.1:6379/{claim_redis_db()}"
    env = {"CHANNEL_LAYER_URL": redis_url, "REDIS_URL": redis_url, **NO_RATE_LIMITS}
    crowded, other = site.start("uvicorn", **env), site.start("daphne", **env)
    sockets: list[ClientConnection] = []
    try:
        # A watcher on the other process, in every room, hearing everyone arrive while they do.
        watcher = Client(await open_socket(f"{other.ws_url}/ws/?name=watcher", max_size=None, max_queue=None))
        for i in range(ROOMS):
            assert (await watcher.request({"type": "subscribe", "room": f"crowd-{i}"}))["type"] == "subscribed"
        await watcher.request({"type": "ping"})  # every room's first presence frame is behind it
        watcher.ignore = ()
        arriving = asyncio.create_task(people_arrive(watcher, SOCKETS))
        for start in range(0, SOCKETS, OPENING_AT_ONCE):
            batch = range(start, min(start + OPENING_AT_ONCE, SOCKETS))
            sockets += await asyncio.gather(*(open_present(crowded, i) for i in batch))
        await arriving

        closed_at = time.monotonic()
        for socket in sockets:
            socket.transport.abort()  # no close handshake: the network went away
        leaving = asyncio.create_task(people_leave(watcher, SOCKETS, within=WAIT))
        cleared_after = await claims_cleared(redis_url, remaining=ROOMS, since=closed_at)  # the watcher's
        # The newcomers come once the departures are heard: fifty of them connecting at once to the
        # same process, from the same two cores, would otherwise time their own handshakes too.
        left, all_gone_after = await leaving
        views = await presence_seen_by_newcomers(other, connect)
        await watcher.close()
        log = crowded.output()
        print(
            f"\n[mass disconnect] {SOCKETS} sockets in {ROOMS} rooms dropped at once; Redis held only the other"
            f" process's presence claims {cleared_after * 1000:.0f} ms later, and the other process had announced"
            f" {len(left)} departures {all_gone_after * 1000:.0f} ms later; errors logged"
            f" {len(error_lines(log))}, tracebacks {traceback_count(log)}, Redis warnings {log.count('Redis')}"
        )
        for view in views:
            assert view["type"] == "presence"
            assert sorted(person["name"] for person in view["online"]) == ["newcomer", "watcher"], view
        assert len(left) == SOCKETS, f"{len(left)} of {SOCKETS} departures announced within {WAIT} s"
        assert all_gone_after <= ANNOUNCED_WITHIN, f"all departures announced after {all_gone_after:.2f} s"
        assert cleared_after <= WITHIN, f"the crowd's presence claims were gone only after {cleared_after:.2f} s"
        assert not error_lines(log), error_lines(log)[:5]
        assert traceback_count(log) == 0, log[-3000:]
        assert "Redis" not in log, [line for line in log.splitlines() if "Redis" in line][:5]
    finally:
        for socket in sockets:
            socket.transport.abort()
        crowded.stop()
        other.stop()


async def claims_cleared(redis_url: str, remaining: int, since: float) -> float:
    """Seconds from ``since`` until Redis holds only ``remaining`` live presence claims: what any
    process answers a subscribe with from then on (the newcomers' views check that it does)."""
    client = aredis.Redis.from_url(redis_url)
    try:
        async with asyncio.timeout(WAIT):
            while True:
                keys = [key async for key in client.scan_iter(match="parley:presence:*")]
                live = sum([await client.zcount(key, time.time(), "+inf") for key in keys])
                if live <= remaining:
                    return time.monotonic() - since
                await asyncio.sleep(0.02)
    finally:
        await client.aclose()


async def presence_seen_by_newcomers(server: ServerProcess, connect: Connect) -> list[dict]:
    """The ``presence`` frame of every room, as someone subscribing to it on ``server`` now gets
    it (one newcomer a room, all at once)."""

    async def view(room: str) -> dict:
        newcomer = await connect(server, name="newcomer")
        newcomer.ignore = ()
        assert (await newcomer.request({"type": "subscribe", "room": room}))["type"] == "subscribed"
        return await newcomer.recv()

    return await asyncio.gather(*(view(f"crowd-{i}") for i in range(ROOMS)))


async def people_arrive(watcher, count: int) -> None:
    """Wait until the watcher has heard ``count`` people arrive."""
    arrived = 0
    async with asyncio.timeout(120):
        while arrived < count:
            frame = await watcher.recv()
            if frame["type"] == "presence_diff":
                arrived += len(frame["joined"])


async def people_leave(watcher, count: int, within: float) -> tuple[list[str], float]:
    """The names of the people the watcher hears leave, until ``count`` have or ``within`` passes,
    and the seconds that took."""
    started = time.monotonic()
    left: list[str] = []
    try:
        async with asyncio.timeout(within):
            while len(left) < count:
                frame = await watcher.recv()
                if frame["type"] == "presence_diff":
                    left += [person["name"] for person in frame["left"]]
    except TimeoutError:
        pass
    return left, time.monotonic() - started
