"""Sending a batch of events to the channel layer in a few round trips instead of one each.

The publisher (``parley.events.publish.Publisher``) sent one event per ``group_send``, each
awaited before the next: a process published at most one event per layer round trip. Against a
Redis 20 ms away that was about 47 events a second on ``redis+pubsub://`` and 11 on ``redis://``
(whose ``group_send`` takes four round trips). A ``Pipeline`` sends what has queued up meanwhile
in one go:

- to a layer that takes a batch (``group_send_many``: Parley's Redis layers,
  ``parley.realtime.redis_layer``, which write it as one pipeline per Redis shard), the whole
  batch in one call;
- to any other layer, each group's events one after another, as before, and different groups' at
  the same time (at most ``PARLEY_PUBLISH_CONCURRENCY`` groups in flight).

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from channels.layers import BaseChannelLayer

from parley.conf import parley_settings
from parley.monitoring.outages import CHANNEL_LAYER

# A layer's group_send_many: each (group, event) sent in order, the outcome of each (None, or the
# exception of an event it could not serialize and left out).
SendMany = Callable[[list[tuple[str, dict[str, Any]]]], Awaitable[list[Exception | None]]]

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
        # A layer that takes a whole batch in one call (parley.realtime.redis_layer's), or None.
        self._send_many: SendMany | None = getattr(layer, "group_send_many", None)

    async def send(self, batch: list[Outgoing]) -> None:
        """Send ``batch`` (in publishing order); a failure is recorded (``CHANNEL_LAYER``), never raised."""
        for part in _parts(batch):
            try:
                if self._send_many is not None:
                    sent = not any(await self._send_many([(out.group, out.event) for out in part]))
                else:
                    sent = await self._group_sends(part)
            except Exception:  # Redis unreachable, say: the publisher must go on
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


def _parts(batch: list[Outgoing]) -> list[list[Outgoing]]:
    """``batch`` cut before and after each event to be sent alone, in order."""
    parts: list[list[Outgoing]] = [[]]
    for outgoing in batch:
        if outgoing.alone:
            parts += [[outgoing], []]
        else:
            parts[-1].append(outgoing)
    return [part for part in parts if part]
