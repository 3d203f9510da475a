"""Sending a batch of events to the channel layer in a few round trips instead of one each.

The publisher (``parley.events.publish.Publisher``) sent one event per ``group_send``, each
awaited before the next: a process published at most one event per layer round trip. Against a
Redis 20 ms away that was about 47 events a second on ``redis+pubsub://`` and 11 on ``redis://``
(whose ``group_send`` takes four round trips). A ``Pipeline`` sends what has queued up meanwhile
in one go:

- on ``redis+pubsub://`` (channels_redis' ``RedisPubSubChannelLayer``), the batch's PUBLISH
  commands go to each Redis shard as one pipeline: one round trip a shard for the whole batch;
- on any other layer, each group's events are sent one after another, as before, and different
  groups' at the same time (at most ``PARLEY_PUBLISH_CONCURRENCY`` groups in flight).

What stays ordered: one group's events (so one room's, one user's) reach the layer in the order
they were published, and a batch is sent only once the one before it is; an event published with
``alone=True`` is sent after everything published before it and before everything published
after it, whatever their groups. What is not: two events of *different* groups published close
together (in one batch) may reach the layer in either order, as they always could reach two
processes' hubs. "Reach the layer" is all a publisher can promise: on a sharded layer, two groups
on different Redis servers reach a hub over two connections, in whatever order those deliver.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from channels.layers import BaseChannelLayer

from parley.conf import parley_settings
from parley.monitoring.outages import CHANNEL_LAYER

try:  # the layer is optional (the "redis" extra)
    from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
except ImportError:  # pragma: no cover - installed in every test environment
    RedisPubSubChannelLayer = RedisPubSubLoopLayer = RedisSingleShardConnection = None

# Most events one batch holds: a burst larger than this goes in several batches, so that one
# batch's pipeline (and the memory it holds) stays bounded.
BATCH_MOST = 500


@dataclass(frozen=True)
class Outgoing:
    """One event for one group; ``alone`` asks for it to be sent apart from the events around it
    (an event about several groups, which must not overtake what was published to them before)."""

    group: str
    event: dict[str, Any]
    alone: bool = False


class Pipeline:
    """Sends batches of ``Outgoing`` events to one channel layer, keeping each group's order."""

    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self._pubsub = _pipelines(layer)

    async def send(self, batch: list[Outgoing]) -> None:
        """Send ``batch`` (in publishing order); a failure is recorded (``CHANNEL_LAYER``), never raised."""
        for part in _parts(batch):
            try:
                sent = await (self._publish(part) if self._pubsub else self._group_sends(part))
            except Exception:  # an event the layer cannot serialize, say: the publisher must go on
                sent = False
            if sent:
                CHANNEL_LAYER.recovered()
            else:
                CHANNEL_LAYER.failed()

    async def _group_sends(self, part: list[Outgoing]) -> bool:
        """Each group's events in order, several groups at once; whether every send succeeded."""
        by_group: dict[str, list[dict[str, Any]]] = {}
        for outgoing in part:
            by_group.setdefault(outgoing.group, []).append(outgoing.event)
        slots = asyncio.Semaphore(parley_settings.PUBLISH_CONCURRENCY)
        failures = 0

        async def send_group(group: str, events: list[dict[str, Any]]) -> None:
            nonlocal failures
            async with slots:
                for event in events:
                    try:
                        await self.layer.group_send(group, event)
                    except Exception:
                        failures += 1

        if len(by_group) == 1:
            [(group, events)] = by_group.items()
            await send_group(group, events)  # the common case, without a task
        else:
            await asyncio.gather(*(send_group(group, events) for group, events in by_group.items()))
        return failures == 0

    async def _publish(self, part: list[Outgoing]) -> bool:
        """The part's PUBLISH commands as one pipeline per Redis shard, shards at once."""
        loop_layer = self.layer._get_layer()  # the layer's state for this event loop
        by_shard: dict[int, tuple[Any, list[tuple[str, bytes]]]] = {}
        unsent = 0
        for outgoing in part:
            channel = loop_layer._get_group_channel_name(outgoing.group)
            shard = loop_layer._get_shard(channel)
            try:
                message = self.layer.serialize(outgoing.event)
            except Exception:  # this event only: group_send would have failed on it alone too
                unsent += 1
                continue
            by_shard.setdefault(id(shard), (shard, []))[1].append((channel, message))
        results = await asyncio.gather(
            *(_publish_on(shard, messages) for shard, messages in by_shard.values()), return_exceptions=True
        )
        return not unsent and not any(isinstance(result, BaseException) for result in results)


async def _publish_on(shard: Any, messages: Iterable[tuple[str, bytes]]) -> None:
    """PUBLISH each message on one shard's connection, in order, in one round trip.

    Under the shard's own lock, as channels_redis' ``publish`` takes it: its subscribe and
    unsubscribe calls share the client."""
    async with shard._lock:
        shard._ensure_redis()
        pipe = shard._redis.pipeline(transaction=False)
        for channel, message in messages:
            pipe.publish(channel, message)
        await pipe.execute()


def _pipelines(layer: BaseChannelLayer) -> bool:
    """Whether ``layer`` is channels_redis' pub/sub layer with the internals ``_publish`` uses
    (they are not its public API: a version without them gets the group sends instead)."""
    return (
        RedisPubSubChannelLayer is not None
        and isinstance(layer, RedisPubSubChannelLayer)
        and all(hasattr(RedisPubSubChannelLayer, name) for name in ("_get_layer", "serialize"))
        and all(hasattr(RedisPubSubLoopLayer, name) for name in ("_get_shard", "_get_group_channel_name"))
        and hasattr(RedisSingleShardConnection, "_ensure_redis")
    )


def _parts(batch: list[Outgoing]) -> list[list[Outgoing]]:
    """``batch`` cut before and after each event to be sent alone, in order."""
    parts: list[list[Outgoing]] = [[]]
    for outgoing in batch:
        if outgoing.alone:
            parts += [[outgoing], []]
        else:
            parts[-1].append(outgoing)
    return [part for part in parts if part]
