"""channels_redis's two layers, with each process's group sends batched into pipelines.

``RedisChannelLayer.group_send`` costs four round trips to Redis one after the other (drop the
group's expired members, read its members, drop each member channel's expired messages, then a
Lua script adds the message to each channel), and the pub/sub layer's one ``PUBLISH`` each; the
ingest benchmark's profile showed the Redis client's round trips in a fifth of the server's
samples. Here the group sends that are waiting while one is in flight go together, and a batch
costs two pipelined round trips on ``redis://`` (the groups' members for all of its groups, then
every delivery script, the expiry folded in) and one on ``redis+pubsub://``, whatever its size.

Receiving is batched too, on ``redis://``: channels_redis takes a process's messages one at a time,
four round trips each, one after another; a hub receives every event of every room its process
follows on one channel, and under the ingest benchmark it fell more than a second behind (and its
sweep then read the late events from the database as well). ``receive_single`` here takes
everything waiting for the process in one round trip.

Each group send still waits until its batch is written and raises what failed it, and sends keep
the order they were made in (one pipeline per shard, in order), so a caller sees the layer it
knows, only cheaper.

This reaches into channels_redis's internals (``RedisChannelLayer._group_key``,
``_map_channel_keys_to_connection``, ``connection``, ``consistent_hash``, and for receiving
``receive_buffer``, ``receive_clean_locks``, ``_backup_channel_name`` and the backup queue's
semantics; the pub/sub layer's
``_get_layer``, ``_get_group_channel_name``, ``_get_shard`` and a shard's ``_lock``,
``_ensure_redis`` and ``_redis``), which is why ``pyproject.toml`` pins channels-redis to the
4.3 series these were written against. A new release: check these names, then widen the pin.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any, cast

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from parley.realtime.batches import Batches

logger = logging.getLogger(__name__)

# The most group sends one batch writes: a bound on one pipeline's size.
MOST_PER_BATCH = 500
# Seconds between the scores of two messages of a batch: above the resolution of a double near
# today's time.time() (about 0.24 µs), so that each is a distinct, later score.
SCORE_STEP = 1e-6

GroupSend = tuple[str, dict[str, Any]]

# Adds a message to each channel of KEYS unless it is at capacity, as RedisChannelLayer's own
# script does, after dropping the channel's expired messages (there a round trip of its own).
# ARGV: the messages, then the capacities, then the time, the expiry and the expired cutoff.
DELIVER_LUA = """
local count = #KEYS
local now, expiry, cutoff = ARGV[2 * count + 1], ARGV[2 * count + 2], ARGV[2 * count + 3]
local over_capacity = 0
for i = 1, count do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, cutoff)
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + count]) then
        redis.call('ZADD', KEYS[i], now, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


# Takes up to ARGV[1] of the messages waiting in KEYS[1], a process's channel, in one step. As in
# channels_redis, what a receive took stays in the backup queue KEYS[2] until the process has it:
# ARGV[2] is 1 when the process has what it took last time (the copies are dropped), 0 when that
# receive was cancelled while Redis answered (the copies go back in front of the channel, as
# channels_redis's own receive puts them back).
RECEIVE_LUA = """
if ARGV[2] == '0' then
    local backed_up = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
    for i = #backed_up, 1, -2 do
        redis.call('ZADD', KEYS[1], backed_up[i], backed_up[i - 1])
    end
end
redis.call('DEL', KEYS[2])
local taken = redis.call('ZPOPMIN', KEYS[1], ARGV[1])
for i = 1, #taken, 2 do
    redis.call('ZADD', KEYS[2], taken[i + 1], taken[i])
end
return taken
"""
# The most messages one receive takes: a bound on one answer's size.
MOST_PER_RECEIVE = 500


def _one_at_a_time() -> int:
    return 1


class _Batching:
    """What both layers share: their group sends, batched per event loop (as the layers keep their
    connections), one batch in flight at a time so that the batches keep their order."""

    def _batches(self) -> Batches[GroupSend, None]:
        batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Batches[GroupSend, None]]
        batches = self.__dict__.setdefault("_parley_batches", weakref.WeakKeyDictionary())
        loop = asyncio.get_running_loop()
        found = batches.get(loop)
        if found is None:
            found = batches[loop] = Batches(self._write_batch, most=MOST_PER_BATCH, at_once=_one_at_a_time)
        return found

    async def group_send_many(self, sends: list[GroupSend]) -> list[Exception | None]:
        """Send each ``(group, message)`` of ``sends`` now, as one batch, in order.

        The outcome of each: ``None`` once written, or the exception of a message the layer could
        not serialize (it alone is left out; nothing of the batch is written before every message
        is serialized). A failure to reach Redis raises. Parley's publisher
        (``parley.events.pipelining``) hands its batches over here, so that one room's events,
        published in a burst, go in one round trip too."""
        return await self._write_batch(sends)

    async def _write_batch(self, sends: list[GroupSend]) -> list[Exception | None]:
        raise NotImplementedError


class BatchingRedisChannelLayer(_Batching, RedisChannelLayer):  # type: ignore[misc]
    """``RedisChannelLayer`` whose group sends waiting together cost two pipelined round trips."""

    _last_score = 0.0  # the score after the last message this layer wrote

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to every channel in ``group``, in a batch with the others waiting."""
        assert self.require_valid_group_name(group), "Group name not valid"
        await self._batches().submit((group, message))

    async def _write_batch(self, sends: list[GroupSend]) -> list[Exception | None]:
        members = await self._members(sends)
        outcomes: list[Exception | None] = [None] * len(sends)
        now = time.time()
        # A channel's messages are read lowest score first, and equal scores by their bytes: each
        # message of the batch gets a later score than the one before it (channels_redis's own
        # group_send takes a fresh time.time() each), in this process at least a microsecond later.
        score = max(now, self._last_score)
        # One pipeline per shard of the member channels, each delivery script in the order sent.
        pipes: dict[int, tuple[Any, list[str]]] = {}
        for at, ((group, message), channels) in enumerate(zip(sends, members, strict=True)):
            try:  # serializes the message
                by_connection, messages, capacities = self._map_channel_keys_to_connection(channels, message)
            except Exception as error:  # this message only: the others of the batch still go
                outcomes[at] = error
                continue
            for index, keys in by_connection.items():
                if index not in pipes:
                    pipes[index] = (self.connection(index).pipeline(transaction=False), [])
                pipe, groups = pipes[index]
                arguments = [messages[key] for key in keys] + [capacities[key] for key in keys]
                arguments += [repr(score), self.expiry, int(now) - int(self.expiry)]
                pipe.eval(DELIVER_LUA, len(keys), *keys, *arguments)
                groups.append(group)
            score += SCORE_STEP
        self._last_score = score
        for pipe, groups in pipes.values():
            for over, group in zip(await pipe.execute(), groups, strict=True):
                if over:
                    logger.info("%s channels over capacity in group %s", over, group)
        return outcomes

    async def receive_single(self, channel: str) -> tuple[Any, dict[str, Any]]:
        """The next message on ``channel``. For this process's own channels (``…!``, which
        ``receive`` reads through here) every message waiting is taken in one round trip: the
        first ones go to their channels' buffers, as channels_redis's ``receive`` files the one it
        is returned, and the last is returned. When nothing waits, channels_redis's blocking
        receive takes the next one that comes."""
        if not channel.endswith("!"):
            return cast(tuple[Any, dict[str, Any]], await super().receive_single(channel))
        key = self.prefix + channel
        handed_over: set[str] = self.__dict__.setdefault("_parley_handed_over", set())
        while True:
            # channels_redis's per-channel lock: no receive starts while another one's backup
            # copies are being dealt with.
            await self.receive_clean_locks.acquire(key)
            try:
                previous = "1" if key in handed_over else "0"
                handed_over.discard(key)  # until this receive's answer is in hand
                taken = await self.connection(self.consistent_hash(channel)).eval(
                    # A buffer holds at most the layer's capacity: more would push messages out.
                    RECEIVE_LUA,
                    2,
                    key,
                    self._backup_channel_name(key),
                    min(MOST_PER_RECEIVE, self.capacity),
                    previous,
                )
                handed_over.add(key)
            finally:
                self.receive_clean_locks.release(key)
            if not taken:
                return cast(tuple[Any, dict[str, Any]], await super().receive_single(channel))
            # Nothing awaits from here to the return: every message taken reaches its buffer.
            received = [self._unpacked(channel, content) for content in taken[::2]]
            for message_channels, message in received[:-1]:
                for message_channel in message_channels if isinstance(message_channels, list) else [message_channels]:
                    self.receive_buffer[message_channel].put_nowait(message)
            return received[-1]

    def _unpacked(self, channel: str, content: bytes) -> tuple[str | list[str], dict[str, Any]]:
        """A message as channels_redis stores it: serialized, with the local channel it is for (or
        the list of them, for a group send that reached several of the process's channels)."""
        message: dict[str, Any] = self.deserialize(content)
        return message.pop("__asgi_channel__", channel), message

    async def _members(self, sends: list[GroupSend]) -> list[list[str]]:
        """Each send's group's member channels, read in one pipeline per shard of the groups
        (after dropping the members that expired, as ``group_send`` does)."""
        cutoff = int(time.time()) - self.group_expiry
        pipes: dict[int, tuple[Any, list[int]]] = {}
        for at, (group, _) in enumerate(sends):
            index = self.consistent_hash(group)
            if index not in pipes:
                pipes[index] = (self.connection(index).pipeline(transaction=False), [])
            pipe, ats = pipes[index]
            key = self._group_key(group)
            pipe.zremrangebyscore(key, min=0, max=cutoff)
            pipe.zrange(key, 0, -1)
            ats.append(at)
        members: list[list[str]] = [[] for _ in sends]
        for pipe, ats in pipes.values():
            replies = await pipe.execute()
            for at, names in zip(ats, replies[1::2], strict=True):
                members[at] = [name.decode("utf8") for name in names]
        return members


class BatchingRedisPubSubChannelLayer(_Batching, RedisPubSubChannelLayer):  # type: ignore[misc]
    """``RedisPubSubChannelLayer`` whose group sends waiting together are one pipelined round trip
    per shard."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Publish ``message`` to ``group``, in a batch with the others waiting."""
        await self._batches().submit((group, message))

    async def _write_batch(self, sends: list[GroupSend]) -> list[Exception | None]:
        layer = self._get_layer()
        outcomes: list[Exception | None] = [None] * len(sends)
        by_shard: dict[int, tuple[Any, list[tuple[str, bytes]]]] = {}
        for at, (group, message) in enumerate(sends):
            try:
                data = self.serialize(message)
            except Exception as error:  # this message only: the others of the batch still go
                outcomes[at] = error
                continue
            channel = layer._get_group_channel_name(group)
            shard = layer._get_shard(channel)
            by_shard.setdefault(id(shard), (shard, []))[1].append((channel, data))
        for shard, publishes in by_shard.values():
            # The shard's lock, as its own publish takes: its connection is made and replaced under it.
            async with shard._lock:
                shard._ensure_redis()
                pipe = shard._redis.pipeline(transaction=False)
                for channel, data in publishes:
                    pipe.publish(channel, data)
                await pipe.execute()
        return outcomes
