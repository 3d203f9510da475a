"""The hub leaves what it joins: a real server on RedisChannelLayer, with Redis read directly.

channels_redis keeps a group as a sorted set ``<prefix>:group:<group>`` of member channels (Redis
drops a sorted set once it is empty). The hub joins a room's group once per process, on its one
channel, however many local sockets follow the room, and must leave it when the last one goes,
whether by ``unsubscribe`` or by closing the socket; otherwise every room ever visited would stay
in Redis, and every message in it would still be sent to this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from tests.e2e.client import Connect
from tests.e2e.site import RoomSpec, Site, UserSpec

pytestmark = [pytest.mark.e2e]

PREFIX = "parley"  # CHANNEL_LAYER_PREFIX's default
GROUPS = f"{PREFIX}:group:*"
ROOM_GROUPS = f"{PREFIX}:group:parley.room.*"
# The groups a hub keeps for as long as its process runs: token revocations and frames for many
# rooms at once (a burst of departures) reach every process.
TOKENS_GROUP = f"{PREFIX}:group:parley.tokens"
ROOMS_GROUP = f"{PREFIX}:group:parley.rooms"
CLAIM_KEY = b"parley-e2e-claim"


@pytest.fixture(scope="module")
def site(site_factory) -> Site:
    return site_factory(rooms=(RoomSpec("tidy-a"), RoomSpec("tidy-b")), users=(UserSpec("alice"), UserSpec("bob")))


def group_members(client: redis.Redis, pattern: str) -> dict[str, set[str]]:
    """Every group key matching ``pattern``, with its member channels."""
    return {
        key.decode(): {member.decode() for member in client.zrange(key, 0, -1)}
        for key in client.scan_iter(match=pattern)
    }


def settle(
    read: Callable[[], dict[str, set[str]]], expected: Callable[[dict[str, set[str]]], bool], seconds: float = 5
) -> dict[str, set[str]]:
    """What ``read`` returns once ``expected`` holds, or after ``seconds`` (the server leaves
    groups after the socket's close is handled, which the client does not wait for)."""
    deadline = time.monotonic() + seconds
    state = read()
    while not expected(state) and time.monotonic() < deadline:
        time.sleep(0.05)
        state = read()
    return state


async def test_the_last_socket_out_of_a_room_takes_the_hub_out_of_its_group(
    site: Site, claim_redis_db, connect: Connect
):
    index = claim_redis_db()
    server = site.start("uvicorn", CHANNEL_LAYER_URL=f"redis://127.0.0.1:6379/{index}")
    client = redis.Redis(host="127.0.0.1", port=6379, db=index)
    try:
        first = await connect(server, token=site.token("alice"))
        assert (await first.request({"type": "subscribe", "room": "tidy-a"}))["type"] == "subscribed"
        groups = group_members(client, ROOM_GROUPS)
        assert len(groups) == 1, groups
        ((room_a, members),) = groups.items()
        (hub_channel,) = members
        assert hub_channel.startswith("parley.hub."), hub_channel

        second = await connect(server, token=site.token("bob"))
        for room in ("tidy-a", "tidy-b"):
            assert (await second.request({"type": "subscribe", "room": room}))["type"] == "subscribed"
        groups = group_members(client, ROOM_GROUPS)
        # One membership per process and room, whatever the number of sockets.
        assert len(groups) == 2, groups
        assert all(members == {hub_channel} for members in groups.values()), groups
        assert room_a in groups

        # Traffic goes through the group and reaches both sockets.
        await second.send({"type": "send", "room": "tidy-a", "body": "hello", "client_id": "c-1"})
        frames = await second.recv_until("ack")
        if len(frames) == 1:  # the sender follows the room too: its copy comes before or after the ack
            frames.append(await second.recv())
        assert sorted(frame["type"] for frame in frames) == ["ack", "message"]
        assert (await first.recv())["body"] == "hello"

        assert (await second.request({"type": "unsubscribe", "room": "tidy-b"}))["type"] == "unsubscribed"
        assert group_members(client, ROOM_GROUPS) == {room_a: {hub_channel}}

        await first.close()  # tidy-a still has bob's socket
        changed = settle(lambda: group_members(client, ROOM_GROUPS), lambda state: state != {room_a: {hub_channel}}, 1)
        assert changed == {room_a: {hub_channel}}

        await second.close()  # the last socket, closed without unsubscribing
        expected = {TOKENS_GROUP: {hub_channel}, ROOMS_GROUP: {hub_channel}}
        groups = settle(lambda: group_members(client, GROUPS), lambda state: state == expected)
        assert groups == expected, f"groups left in Redis after every socket closed: {groups}"

        # What is left is the process-wide groups and channels_redis' own message queues of
        # channels, all with an expiry (group_expiry for the groups; the hub re-joins before it).
        leftovers = {key: client.ttl(key) for key in client.scan_iter() if key != CLAIM_KEY}
        assert all(ttl > 0 for ttl in leftovers.values()), f"keys that never expire: {leftovers}"
        assert not [key for key in leftovers if b"room." in key], leftovers  # no room's group
    finally:
        client.close()
        server.stop()
