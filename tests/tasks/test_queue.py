"""Where background work runs, and what a queued task looks like on the channel layer."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import get_commands

from config.settings import _channel_layer_from_url, _tasks_mode
from parley.tasks.queue import TASKS_CHANNEL, enqueue
from tests.servers import manage, server_env


@pytest.mark.parametrize(
    ("url", "mode"),
    [
        ("memory://", "inline"),
        ("amqp://guest:guest@127.0.0.1:5672/%2F", "inline"),
        ("redis://127.0.0.1:6379/0", "worker"),
        ("redis+pubsub://127.0.0.1:6379/0", "worker"),
    ],
)
def test_the_default_mode_follows_the_channel_layer(url, mode):
    assert _tasks_mode(url) == mode


def test_an_unknown_mode_stops_the_process_with_a_sentence():
    with pytest.raises(RuntimeError, match="PARLEY_TASKS is 'celery': set it to inline"):
        manage(server_env(PARLEY_TASKS="celery"), "check")


def test_runworker_is_parleys_which_starts_the_task_consumer_at_once():
    assert get_commands()["runworker"] == "parley"


def test_in_worker_mode_a_task_is_a_message_on_the_tasks_channel(settings):
    settings.PARLEY = {**settings.PARLEY, "TASKS": "worker"}
    enqueue("webhooks.deliver", delivery_ids=[1, 2])
    enqueue("mentions.email", delay=300, user_ids=[7])
    layer = get_channel_layer()
    assert async_to_sync(layer.receive)(TASKS_CHANNEL) == {"type": "webhooks.deliver", "delivery_ids": [1, 2]}
    delayed = async_to_sync(layer.receive)(TASKS_CHANNEL)
    assert delayed["type"] == "mentions.email"
    assert delayed["user_ids"] == [7]
    assert 290 < delayed["not_before"] - time.time() <= 300


def test_channels_rabbitmq_cannot_carry_the_tasks_channel():
    """Why amqp:// runs tasks inline: the layer refuses any channel without '!' (a "normal channel")."""
    # The refusal comes before any connection is made: no broker is needed to see it.
    from channels_rabbitmq.core import RabbitmqChannelLayer

    config = _channel_layer_from_url("amqp://guest:guest@127.0.0.1:5672/%2F", "parley-tasks-test")["CONFIG"]

    async def send_to_tasks_channel() -> None:
        layer = RabbitmqChannelLayer(**config)
        try:
            await layer.send(TASKS_CHANNEL, {"type": "tasks.sweep"})
        finally:
            await layer.close()

    with pytest.raises(RuntimeError, match="does not support Normal Channels"):
        async_to_sync(send_to_tasks_channel)()
