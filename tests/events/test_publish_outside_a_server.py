"""``publish`` from a process without a publisher (a management command, a worker) on each layer
that reaches other processes, against the real brokers: every event arrives, call after call.

RabbitMQ's layer can only be made on a running event loop and stays bound to it: made outside
one, ``manage.py issuetoken`` failed on ``amqp://`` ("Refusing to initialize channel layer
without a running event loop")."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest
from django.test import override_settings
from django.utils.module_loading import import_string

from parley.events.publish import publish
from tests.e2e.conftest import claim_redis_db  # noqa: F401  (fixture)

GROUP = "parley.test.outside"


def layer_settings(kind: str, redis_db: int) -> dict[str, Any]:
    if kind == "amqp":
        host = "amqp://guest:guest@127.0.0.1:5672/%2F"
        config: dict[str, Any] = {"host": host, "groups_exchange": f"parley-test-{uuid.uuid4().hex}.groups"}
        return {"BACKEND": "channels_rabbitmq.core.RabbitmqChannelLayer", "CONFIG": config}
    backend = {
        "redis": "parley.realtime.redis_layer.BatchingRedisChannelLayer",
        "redis+pubsub": "parley.realtime.redis_layer.BatchingRedisPubSubChannelLayer",
    }[kind]
    return {"BACKEND": backend, "CONFIG": {"hosts": [f"redis://127.0.0.1:6379/{redis_db}"]}}


class Listener(threading.Thread):
    """A member of ``GROUP`` on a loop of its own (another process, as far as the layer can tell),
    collecting ``count`` events."""

    def __init__(self, settings: dict[str, Any], count: int) -> None:
        super().__init__(daemon=True)
        self.settings, self.count = settings, count
        self.ready = threading.Event()
        self.events: list[dict[str, Any]] = []

    def run(self) -> None:
        asyncio.run(self._listen())

    async def _listen(self) -> None:
        layer = import_string(self.settings["BACKEND"])(**self.settings["CONFIG"])
        channel = await layer.new_channel()
        await layer.group_add(GROUP, channel)
        await asyncio.sleep(0.5)  # the pub/sub and RabbitMQ layers bind in the background
        self.ready.set()
        try:
            async with asyncio.timeout(15):
                while len(self.events) < self.count:
                    self.events.append(await layer.receive(channel))
        finally:
            await layer.group_discard(GROUP, channel)
            close = getattr(layer, "close", None)
            if close is not None:
                await close()


@pytest.mark.parametrize("kind", ["amqp", "redis", "redis+pubsub"])
def test_events_published_outside_a_server_arrive(kind, claim_redis_db):  # noqa: F811
    settings = layer_settings(kind, claim_redis_db())
    listener = Listener(settings, count=3)
    listener.start()
    assert listener.ready.wait(15), "the listener never joined the group"
    with override_settings(CHANNEL_LAYERS={"default": settings}):
        for n in range(3):  # each call on an event loop of its own (async_to_sync)
            publish(GROUP, {"type": "test.event", "n": n})
    listener.join(20)
    assert [event["n"] for event in listener.events] == [0, 1, 2]
