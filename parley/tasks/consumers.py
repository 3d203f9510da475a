"""The task consumer: runs what ``enqueue`` queued, and sweeps the database for due work.

One instance runs per worker process (``manage.py runworker parley.tasks``) or, inline, per server
event loop. A task's type names its kind in ``parley.tasks.registry``; each piece of work starts as
an asyncio task and the handler returns, so one slow webhook never holds up the next task.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from typing import Any

from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async

from parley.conf import parley_settings
from parley.tasks.registry import TaskKind, task_kind, task_kinds

logger = logging.getLogger(__name__)

# A channel-layer alias that is not configured: tasks arrive on the queue the runner feeds (the
# Worker's, or the inline client's), not on a channel of this consumer's own.
NO_CHANNEL_LAYER = "parley.tasks.no-own-channel"

# A job returns None when it is done, or the seconds after which it wants to run again (a retry).
Job = Callable[[], Awaitable[float | None]]


class TaskConsumer(AsyncConsumer):  # type: ignore[misc]
    """Runs background tasks concurrently (at most ``PARLEY_TASKS_CONCURRENCY`` at once)."""

    channel_layer_alias = NO_CHANNEL_LAYER

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Called when the runner starts this consumer: sweep the database until it stops."""
        self._slots = asyncio.Semaphore(parley_settings.TASKS_CONCURRENCY)
        self._running: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        # What this consumer is working on or waiting to retry, so a sweep does not start it twice.
        self._busy: set[Hashable] = set()
        sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())
        try:
            await super().__call__(scope, receive, send)
        finally:
            sweeper.cancel()
            for timer in self._timers:
                timer.cancel()
            for task in self._running:
                task.cancel()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Called for every queued task: start the work of each id it names."""
        if message["type"] == "tasks.sweep":
            await self._sweep()
            return
        kind = task_kind(message["type"])
        if kind is None:
            logger.warning("no kind of task is registered as %r; ignored", message["type"])
            return
        ids = message.get(kind.ids, [])
        for item_id in ids if isinstance(ids, list) else [ids]:
            self._start(kind, item_id, message)

    def _start(self, kind: TaskKind, item_id: int, message: dict[str, Any] | None = None) -> None:
        """Run ``kind`` for ``item_id`` now or at the message's ``not_before``, unless it is in hand already."""
        key = (kind.name, item_id)
        if key in self._busy:
            return
        self._busy.add(key)
        not_before = (message or {}).get("not_before")
        job = partial(kind.run, item_id)
        self._at(max(0.0, float(not_before) - time.time()) if not_before else 0.0, key, job)

    def _at(self, delay: float, key: Hashable, job: Job) -> None:
        loop = asyncio.get_running_loop()
        if delay <= 0:
            task = loop.create_task(self._run(key, job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            return

        def due() -> None:
            self._timers.discard(timer)
            self._at(0.0, key, job)

        timer = loop.call_later(delay, due)
        self._timers.add(timer)

    async def _run(self, key: Hashable, job: Job) -> None:
        retry_in: float | None = None
        try:
            async with self._slots:
                retry_in = await job()
        except Exception:
            # The work stays in the database; the sweep tries again.
            logger.exception("background task %s failed", key)
        if retry_in is None:
            self._busy.discard(key)
        else:
            self._at(retry_in, key, job)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(parley_settings.TASKS_SWEEP_INTERVAL)
            await self._sweep()

    async def _sweep(self) -> None:
        """Start the work the database says is due: retries whose timers a restart lost, deliveries
        queued while no runner read the queue, mention e-mails nobody sent."""
        for kind in task_kinds():
            if kind.due is None:
                continue
            try:
                item_ids = await database_sync_to_async(kind.due)()
            except Exception:
                logger.warning("the task sweep could not read the database; trying again later", exc_info=True)
                return
            for item_id in item_ids:
                self._start(kind, item_id)
