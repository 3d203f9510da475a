"""Parley's Redis layers batch group sends into pipelines and still deliver each send, in order,
to every member, against a real Redis (a database of the test's own)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

from parley.realtime.redis_layer import RECEIVE_LUA, BatchingRedisChannelLayer, BatchingRedisPubSubChannelLayer
from tests.e2e.conftest import claim_empty_redis_db, flush_redis_dbs


@pytest.fixture
def redis_url() -> Iterator[str]:
    claimed: list[int] = []
    yield f"redis://127.0.0.1:6379/{claim_empty_redis_db(claimed)}"
    flush_redis_dbs(claimed)


@pytest.mark.parametrize("layer_class", [BatchingRedisChannelLayer, BatchingRedisPubSubChannelLayer])
async def test_group_sends_made_together_reach_every_member_in_order(redis_url, layer_class):
    layer = layer_class(hosts=[redis_url], prefix="parley-test-batch", capacity=1000)
    channels = [await layer.new_channel() for _ in range(2)]
    for channel in channels:
        await layer.group_add("room.1", channel)
        await layer.group_add("room.2", channel)
    await asyncio.sleep(0.1)  # the pub/sub layer subscribes in the background
    await asyncio.gather(*(layer.group_send(f"room.{1 + n % 2}", {"type": "m", "n": n}) for n in range(50)))
    for channel in channels:
        received = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(50)]
        assert received == list(range(50))
    await layer.flush()


async def test_group_sends_made_together_are_written_as_one_batch(redis_url, monkeypatch):
    layer = BatchingRedisChannelLayer(hosts=[redis_url], prefix="parley-test-batch", capacity=1000)
    channel = await layer.new_channel()
    await layer.group_add("room.1", channel)
    pipelines = []
    original = layer._write_batch

    async def counted(sends):
        pipelines.append(len(sends))
        return await original(sends)

    monkeypatch.setattr(layer, "_write_batch", counted)
    await asyncio.gather(*(layer.group_send("room.1", {"type": "m", "n": n}) for n in range(20)))
    # All twenty were waiting when the writer started: one batch, two pipelined round trips.
    assert pipelines == [20]
    assert [(await layer.receive(channel))["n"] for _ in range(20)] == list(range(20))
    await layer.flush()


@pytest.mark.parametrize("layer_class", [BatchingRedisChannelLayer, BatchingRedisPubSubChannelLayer])
async def test_a_batch_handed_over_whole_leaves_out_only_what_cannot_be_serialized(redis_url, layer_class):
    layer = layer_class(hosts=[redis_url], prefix="parley-test-batch", capacity=1000)
    channel = await layer.new_channel()
    await layer.group_add("room.1", channel)
    await asyncio.sleep(0.1)  # the pub/sub layer subscribes in the background
    sends = [
        ("room.1", {"type": "m", "n": 0}),
        ("room.1", {"type": "m", "n": object()}),
        ("room.1", {"type": "m", "n": 2}),
    ]
    outcomes = await layer.group_send_many(sends)
    assert outcomes[0] is None
    assert outcomes[2] is None
    assert isinstance(outcomes[1], Exception)  # msgpack has no encoding for an object()
    assert [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(2)] == [0, 2]
    await layer.flush()


async def test_a_failed_batch_raises_in_every_send_of_it():
    layer = BatchingRedisChannelLayer(hosts=["redis://127.0.0.1:1/0"], prefix="parley-test-batch")
    results = await asyncio.gather(
        *(layer.group_send("room.1", {"type": "m"}) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, redis.ConnectionError) for result in results), results


async def test_a_process_takes_every_message_waiting_for_it_at_once_each_channel_in_order(redis_url):
    layer = BatchingRedisChannelLayer(hosts=[redis_url], prefix="parley-test-receive", capacity=1000)
    channels = [await layer.new_channel() for _ in range(3)]
    for n in range(60):
        await layer.send(channels[n % 3], {"type": "m", "n": n})
    process_key = layer.prefix + layer.non_local_name(channels[0])
    client = redis.Redis.from_url(redis_url)
    assert client.zcard(process_key) == 60

    first = await asyncio.wait_for(layer.receive(channels[0]), 5)
    # One receive took all sixty: the others wait in the process's buffers, none in Redis.
    assert client.zcard(process_key) == 0
    received = {channel: [] for channel in channels}
    received[channels[0]].append(first["n"])
    for channel in channels:
        while len(received[channel]) < 20:
            received[channel].append((await asyncio.wait_for(layer.receive(channel), 5))["n"])
    assert [received[channel] for channel in channels] == [list(range(at, 60, 3)) for at in range(3)]

    # Nothing waiting: the receive waits for the next message and gets it.
    later = asyncio.ensure_future(layer.receive(channels[1]))
    await asyncio.sleep(0.2)
    await layer.send(channels[1], {"type": "m", "n": 60})
    assert (await asyncio.wait_for(later, 5))["n"] == 60
    await layer.flush()


async def test_messages_taken_by_a_receive_cancelled_while_redis_answered_are_received_again(redis_url):
    layer = BatchingRedisChannelLayer(hosts=[redis_url], prefix="parley-test-receive", capacity=1000)
    channel = await layer.new_channel()
    for n in range(5):
        await layer.send(channel, {"type": "m", "n": n})
    process_key = layer.prefix + layer.non_local_name(channel)
    client = redis.Redis.from_url(redis_url)
    # What a receive cancelled mid-answer leaves: the messages taken, their copies in the backup
    # queue, and the process holding none of them.
    taken = client.eval(RECEIVE_LUA, 2, process_key, process_key + "$inflight", 3, "1")
    assert len(taken) == 6
    assert client.zcard(process_key) == 2

    received = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(5)]
    assert received == [0, 1, 2, 3, 4]
    assert client.zcard(process_key + "$inflight") == 5  # until the next receive drops the copies
    await layer.send(channel, {"type": "m", "n": 5})
    assert (await asyncio.wait_for(layer.receive(channel), 5))["n"] == 5
    assert client.zcard(process_key + "$inflight") == 1
    await layer.flush()
