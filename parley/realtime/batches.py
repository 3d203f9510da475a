"""Work handed in one piece at a time and done a batch at a time, as the process's load allows.

Nothing waits for a window to fill: a piece that arrives while fewer than ``at_once`` batches are
in flight starts one at once. Under load, each batch takes everything that arrived while the
others were in flight, so the cost per piece (a transaction, a round trip) falls as the load
rises, and a piece waits about two batches long. Pieces are taken in the order they arrived.
Used for the process's plain sends (``parley.realtime.sends``) and the Redis layers' group sends
(``parley.realtime.redis_layer``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batches(Generic[T, R]):
    """Pieces of type ``T`` done by ``do`` a batch at a time, each answered with an ``R``.

    ``do`` returns one outcome per piece, in order: its result, or the exception to raise in
    whoever handed that piece in; when ``do`` itself raises, every piece of the batch raises it.
    """

    def __init__(
        self, do: Callable[[list[T]], Awaitable[list[R | Exception]]], *, most: int, at_once: Callable[[], int]
    ) -> None:
        self._do = do
        self._most = most
        self._at_once = at_once
        self._waiting: list[tuple[T, asyncio.Future[R | Exception]]] = []
        self._in_flight = 0

    async def submit(self, piece: T) -> R:
        """Do ``piece`` in the next batch; its result, or raise what failed it."""
        future: asyncio.Future[R | Exception] = asyncio.get_running_loop().create_future()
        self._waiting.append((piece, future))
        if self._in_flight < self._at_once():
            self._in_flight += 1
            _keep(asyncio.create_task(self._do_while_waiting()))
        outcome = await future
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _do_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._most]
                del self._waiting[: self._most]
                outcomes: list[R | Exception]
                try:
                    outcomes = await self._do([piece for piece, _ in batch])
                except Exception as error:
                    outcomes = [error] * len(batch)
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if not future.done():  # whoever handed it in may have stopped waiting (a closed socket)
                        future.set_result(outcome)
        finally:
            self._in_flight -= 1


_tasks: set[asyncio.Task[Any]] = set()


def _keep(task: asyncio.Task[Any]) -> None:
    """Keep ``task`` referenced until it ends (the event loop holds only a weak reference)."""
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
