"""Queueing background work: the one way code hands a task to ``parley.tasks``.

A task is a channel-layer message: ``{"type": "webhooks.deliver", ...payload}``, handled by the
method of ``TaskConsumer`` named after its type (``webhooks_deliver``). With ``PARLEY_TASKS=worker``
it is sent to the ``parley.tasks`` channel, which ``manage.py runworker parley.tasks`` reads; with
``inline`` it goes straight to the ``TaskConsumer`` running in this process.

Inline is the default for ``memory://`` (the layer lives in one process) and ``amqp://``:
channels_rabbitmq has no "normal channels" — its ``receive`` and ``send`` insist on
process-specific names containing ``!`` (``_assert_channel_is_reply_channel`` in
channels_rabbitmq/core.py 4.0.1, and "No normal channels" in its README), so no worker process
could read ``parley.tasks`` from it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import transaction

from parley.conf import parley_settings
from parley.events.handoff import LoopHandoff
from parley.tasks.consumers import TaskConsumer

logger = logging.getLogger(__name__)

TASKS_CHANNEL = "parley.tasks"
"""The channel ``manage.py runworker parley.tasks`` reads."""

TASKS_SCOPE = {"type": "channel", "channel": TASKS_CHANNEL}


def enqueue(task: str, *, delay: float = 0.0, **payload: Any) -> None:
    """Queue ``task`` (e.g. ``"webhooks.deliver"``) with ``payload``, to run after ``delay`` seconds.

    Payload values must be plain JSON-like values (the layer serialises them). Never raises: a task
    that cannot be queued is logged, and the runners' database sweep does the work later.
    """
    message: dict[str, Any] = {"type": task, **payload}
    if delay > 0:
        message["not_before"] = time.time() + delay
    client = _current
    if client is not None and client.handoff.usable():
        client.submit(message)
        return
    if parley_settings.TASKS == "inline":
        # A process without a running server (a management command, the shell): a server's sweep
        # finds the work in the database.
        logger.debug("no task runner in this process for %s; the database sweep will pick it up", task)
        return
    layer = get_channel_layer()
    if layer is None:
        logger.warning("cannot queue %s: no channel layer is configured", task)
        return
    try:
        async_to_sync(layer.send)(TASKS_CHANNEL, message)
    except Exception:
        logger.warning("could not queue %s on the channel layer; the database sweep will pick it up", task)


def enqueue_on_commit(task: str, *, delay: float = 0.0, **payload: Any) -> None:
    """``enqueue`` once the current transaction commits (nothing is queued if it rolls back)."""
    transaction.on_commit(partial(enqueue, task, delay=delay, **payload))


async def _nothing_to_send(message: dict[str, Any]) -> None:
    """The inline consumer has no client to answer."""


class TaskClient:
    """One event loop's end of the task queue; takes tasks from any thread without waiting.

    Inline, it runs a ``TaskConsumer`` on this loop and feeds it; in worker mode, it sends each
    task to the ``parley.tasks`` channel, in order, from the loop (a service in a database thread
    then never waits for a layer round trip).
    """

    def __init__(self, layer: BaseChannelLayer | None, *, inline: bool) -> None:
        self.inline = inline
        self.layer = layer
        self.handoff: LoopHandoff[dict[str, Any]] = LoopHandoff(self._run_inline if inline else self._send_forever)
        self.loop = self.handoff.loop
        if not inline:
            # A sweep first: under Channels' own ``runworker`` (which a host gets when "channels"
            # precedes "parley" in INSTALLED_APPS) the worker's consumer starts only with a first
            # message, and then sweeps for the due work left while no worker ran.
            self.handoff.submit({"type": "tasks.sweep"})
        self.task = self.handoff.task
        self.task.add_done_callback(self._stopped)

    def submit(self, message: dict[str, Any]) -> None:
        """Queue a task from any thread."""
        self.handoff.submit(message)

    async def _run_inline(self, next_task: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        await TaskConsumer.as_asgi()(dict(TASKS_SCOPE), next_task, _nothing_to_send)

    async def _send_forever(self, next_task: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        while True:
            message = await next_task()
            if self.layer is None:
                logger.warning("cannot queue %s: no channel layer is configured", message["type"])
                continue
            try:
                await self.layer.send(TASKS_CHANNEL, message)
            except Exception:
                logger.warning(
                    "could not queue %s on the channel layer; the database sweep will pick it up", message["type"]
                )

    def _stopped(self, task: asyncio.Task[None]) -> None:
        global _current
        if not task.cancelled() and task.exception() is not None:
            logger.error("the task runner stopped", exc_info=task.exception())
        _clients.pop(self.loop, None)
        if _current is self:
            _current = None


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TaskClient] = weakref.WeakKeyDictionary()
_current: TaskClient | None = None


def tasks_start() -> TaskClient:
    """Start this event loop's task client once (inline: its task consumer and sweep) and return it.

    Parley's socket routes (``parley.routing.parley_route``) and ``parley.tasks.asgi.TasksMiddleware``
    call this for every connection a server takes, so the first request or socket of a server
    process starts its runner.
    """
    global _current
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = TaskClient(get_channel_layer(), inline=parley_settings.TASKS == "inline")
    _current = client
    return client
