"""Handing items from any thread to one coroutine on an event loop, in order, without waiting.

Services run in database threads; making them wait there for a channel-layer round trip (with
``async_to_sync``) held the one database thread for a Redis round trip per message, which capped a
room at a few hundred messages a second. Both the publisher (``parley.events.publish``) and the
task queue's client (``parley.tasks.queue``) hand their items over this way instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


class LoopHandoff(Generic[Item]):
    """A queue onto the running event loop, fed from any thread and drained by one coroutine.

    Created on the loop; ``consume`` receives ``queue.get`` and runs as this loop's task for as
    long as the loop runs (or until it returns).
    """

    def __init__(self, consume: Callable[[Callable[[], Awaitable[Item]]], Coroutine[Any, Any, None]]) -> None:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.task: asyncio.Task[None] = self.loop.create_task(consume(self.queue.get))

    def submit(self, item: Item) -> None:
        """Queue ``item`` from any thread; it reaches the consumer after every item submitted before it."""
        if threading.get_ident() == self.thread:
            self.queue.put_nowait(item)
        else:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def ready(self, most: int) -> list[Item]:
        """Up to ``most`` more items already queued, without waiting (call it on the loop)."""
        items: list[Item] = []
        while len(items) < most and not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    def usable(self) -> bool:
        """Whether the loop can still take items (a closed loop's queue would never drain)."""
        return not self.loop.is_closed()
