"""The publisher against real Redis, through both Redis channel layers: events published from the
loop and from other threads all arrive, each group's in the order published, in batches rather
than one round trip each; an event sent ``alone`` is neither overtaken nor overtakes; an event
the layer cannot carry is lost alone; a layer that cannot be reached costs an outage record,
never an exception."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from parley.events import publish as publishing
from parley.events.pipelining import Outgoing, Pipeline
from parley.events.publish import Publisher, publish
from parley.monitoring.outages import CHANNEL_LAYER
from parley.realtime.redis_layer import BatchingRedisChannelLayer, BatchingRedisPubSubChannelLayer
from tests.e2e.conftest import claim_redis_db  # noqa: F401  (fixture)

GROUPS = ("parley.room.1", "parley.room.2", "parley.user.3")
EVENTS = 300


class CountingPipeline(Pipeline):
    """A real pipeline that also remembers the size of each batch it was given."""

    def __init__(self, layer: Any) -> None:
        super().__init__(layer)
        self.batches: list[int] = []

    async def send(self, batch: list[Outgoing]) -> None:
        self.batches.append(len(batch))
        await super().send(batch)


# Parley's layers take a batch in one call (group_send_many); channels_redis's own pub/sub layer,
# as a host project may name it, gets the group sends one group after another instead.
@pytest.fixture(params=["redis", "redis+pubsub", "redis+pubsub, two shards", "channels_redis's pub/sub"])
async def layer(request, claim_redis_db) -> AsyncIterator[Any]:  # noqa: F811
    hosts = [f"redis://127.0.0.1:6379/{claim_redis_db()}"]
    if request.param.endswith("two shards"):  # a pipeline a shard (two databases stand for two servers)
        hosts.append(f"redis://127.0.0.1:6379/{claim_redis_db()}")
    if request.param == "redis":
        made: Any = BatchingRedisChannelLayer(hosts=hosts, capacity=EVENTS)  # a channel holds 100 by default
    elif request.param.startswith("channels_redis"):
        made = RedisPubSubChannelLayer(hosts=hosts)
    else:
        made = BatchingRedisPubSubChannelLayer(hosts=hosts)
    yield made
    await made.flush()


async def member_of(layer: Any, groups: tuple[str, ...]) -> str:
    channel = await layer.new_channel("test.")
    for group in groups:
        await layer.group_add(group, channel)
    return channel


async def receive(layer: Any, channel: str, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(20):
        return [await layer.receive(channel) for _ in range(count)]


def counting_publisher(layer: Any) -> tuple[Publisher, CountingPipeline]:
    publisher = Publisher(layer)
    publisher.pipeline = pipeline = CountingPipeline(layer)
    return publisher, pipeline


async def test_every_event_arrives_in_its_groups_order_in_batches(layer):
    channel = await member_of(layer, GROUPS)
    publisher, pipeline = counting_publisher(layer)

    def publish_from_a_thread(start: int) -> None:
        for n in range(start, start + EVENTS // 2):
            publisher.handoff.submit(Outgoing(GROUPS[n % 3], {"type": "test.event", "n": n}))

    # Half from the loop (all queued before the publisher runs), half from a database thread.
    for n in range(EVENTS // 2):
        publisher.handoff.submit(Outgoing(GROUPS[n % 3], {"type": "test.event", "n": n}))
    await asyncio.get_running_loop().run_in_executor(None, publish_from_a_thread, EVENTS // 2)
    received = await receive(layer, channel, EVENTS)

    assert sorted(event["n"] for event in received) == list(range(EVENTS))
    for index in range(3):
        of_group = [event["n"] for event in received if event["n"] % 3 == index]
        assert of_group == sorted(of_group), f"{GROUPS[index]}'s events out of order"
    assert sum(pipeline.batches) == EVENTS
    assert len(pipeline.batches) < EVENTS / 10, f"{len(pipeline.batches)} batches for {EVENTS} events"
    publisher.handoff.task.cancel()


# On two shards the receiver reads two connections, which keep no order between them (the module says so).
@pytest.mark.parametrize("layer", ["redis", "redis+pubsub"], indirect=True)
async def test_an_event_sent_alone_is_neither_overtaken_nor_overtakes(layer, monkeypatch):
    channel = await member_of(layer, GROUPS)
    publisher, pipeline = counting_publisher(layer)
    monkeypatch.setattr(publishing, "_publisher", publisher)
    for n in range(20):
        publish(GROUPS[n % 2], {"type": "test.event", "n": n})
    publish(GROUPS[2], {"type": "test.event", "n": 20}, alone=True)
    for n in range(21, 41):
        publish(GROUPS[n % 2], {"type": "test.event", "n": n})
    received = [event["n"] for event in await receive(layer, channel, 41)]

    assert received.index(20) == 20, received  # after all 20 before it, before all 20 after
    assert pipeline.batches == [41]  # one batch, sent in three parts
    publisher.handoff.task.cancel()


async def test_an_event_the_layer_cannot_carry_costs_only_itself(layer):
    channel = await member_of(layer, GROUPS)
    failures = CHANNEL_LAYER.failures
    publisher = Publisher(layer)
    publisher.handoff.submit(Outgoing(GROUPS[0], {"type": "test.event", "n": 0}))
    publisher.handoff.submit(Outgoing(GROUPS[0], {"type": "test.event", "n": object()}))  # no msgpack for that
    publisher.handoff.submit(Outgoing(GROUPS[1], {"type": "test.event", "n": 2}))
    assert sorted(event["n"] for event in await receive(layer, channel, 2)) == [0, 2]
    publisher.handoff.submit(Outgoing(GROUPS[0], {"type": "test.event", "n": 3}))
    assert [event["n"] for event in await receive(layer, channel, 1)] == [3]  # the publisher goes on
    assert CHANNEL_LAYER.failures == failures + 1
    publisher.handoff.task.cancel()


async def test_an_unreachable_layer_is_an_outage_not_an_exception(claim_redis_db):  # noqa: F811
    for unreachable in (
        BatchingRedisChannelLayer(hosts=["redis://127.0.0.1:1/0"]),
        BatchingRedisPubSubChannelLayer(hosts=["redis://127.0.0.1:1/0"]),
        RedisChannelLayer(hosts=["redis://127.0.0.1:1/0"]),
    ):
        failures = CHANNEL_LAYER.failures
        await Pipeline(unreachable).send([Outgoing(group, {"type": "test.event"}) for group in GROUPS])
        assert CHANNEL_LAYER.failures == failures + 1  # one failure for the batch, none raised
    working = RedisPubSubChannelLayer(hosts=[f"redis://127.0.0.1:6379/{claim_redis_db()}"])
    await Pipeline(working).send([Outgoing(GROUPS[0], {"type": "test.event"})])
    assert CHANNEL_LAYER.failures == failures + 1
    await working.flush()
