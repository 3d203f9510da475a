"""Outboxes: the frames waiting to be written to one socket, bounded in bytes."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from parley.realtime.hub.encoding import EventBatch, Format
from parley.realtime.uvicorn_compat import TransportWriter

SendCallable = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


class _Resume:
    """Await the rest of a coroutine that was started by hand and suspended on ``waiting_on``.

    ``Outbox`` runs each send eagerly (see there); when a send does have to wait, this hands the
    half-run coroutine to a task, which resumes it exactly as if it had been awaited from the start.
    """

    __slots__ = ("coro", "waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self.coro = coro
        self.waiting_on = waiting_on

    def __await__(self) -> Generator[Any, None, None]:
        waiting_on = self.waiting_on
        while True:
            try:
                yield waiting_on
            except BaseException:
                self.coro.close()
                raise
            try:
                waiting_on = self.coro.send(None)
            except StopIteration:
                return


class Outbox:
    """The frames waiting to be written to one socket, bounded in bytes.

    Everything a socket is sent goes through its outbox, replies and live messages alike, so they
    reach the client in the order they were pushed. A frame is written at once when the socket is
    not behind: the server's ``send`` is run eagerly, and for a socket whose transport can take
    the bytes it finishes without ever yielding to the event loop. That spares a task wake-up per
    socket per message, which dominated the fan-out's profile before it was spared. Only
    a socket whose client reads slowly gets a task, which writes what queued up meanwhile; when
    the queued bytes would pass ``limit``, ``on_overflow`` is called once and the outbox closes.
    """

    __slots__ = (
        "_backlog",
        "_catching_up",
        "_frames",
        "_limit",
        "_on_overflow",
        "_paused",
        "_queued_bytes",
        "_send",
        "_writer",
        "closed",
    )

    def __init__(
        self,
        send: SendCallable,
        *,
        limit: int,
        on_overflow: Callable[[], None],
        backlog: Callable[[], int] | None = None,
        writer: TransportWriter | None = None,
        paused: bool = False,
    ) -> None:
        self._send = send
        # Uvicorn: live frames framed once per event go straight to the transport (uvicorn_compat).
        self._writer = writer
        # A paused outbox queues everything: the socket's handshake is not complete yet.
        self._paused = paused
        # Servers that never make ``send`` wait (Daphne) report their own write backlog instead.
        self._backlog = backlog
        self._limit = limit
        self._on_overflow = on_overflow
        # Frames waiting behind a send that could not finish at once; most sockets never have any,
        # and an empty deque is 600 bytes, a fiftieth of an idle socket.
        self._frames: deque[tuple[str, int]] | None = None
        self._queued_bytes = 0
        self._catching_up: asyncio.Task[None] | None = None
        self.closed = False

    def push(self, text: str, size: int | None = None, frame: bytes | None = None) -> None:
        """Write a text frame now, or queue it behind the frames still waiting.

        ``frame``, when given, is ``text`` already framed for the wire, for a direct writer.
        """
        if self.closed:
            return
        if self._catching_up is None and not self._paused:
            if frame is not None and self._writer is not None and self._writer.write(frame):
                return
            self._write_now(text)
            if self._backlog is not None and self._backlog() > self._limit:
                self._overflow()
            return
        size = len(text) if size is None else size
        if self._queued_bytes + size > self._limit:
            self._overflow()
            return
        if self._frames is None:
            self._frames = deque()
        self._frames.append((text, size))
        self._queued_bytes += size

    def push_all(self, batch: EventBatch, fmt: Format) -> None:
        """Write every frame of ``batch`` in ``fmt``: in one write when the socket has a direct
        writer and nothing waiting, else one by one as ``push`` does."""
        if self.closed:
            return
        writer = self._writer
        if writer is not None and self._catching_up is None and not self._paused:
            joined = batch.joined(fmt)
            # Only within the socket's buffer limit: a run that a slow reader could not take (a
            # long outage's backlog, say) goes frame by frame, through the flow control that
            # queues, limits and closes.
            if len(joined) + writer.backlog() <= self._limit and writer.write(joined):
                return
        for event in batch.events:
            self.push(*event.encoded(fmt))

    def resume(self, writer: TransportWriter | None = None) -> None:
        """Start writing, what was queued while paused first; ``writer`` as in the constructor."""
        self._paused = False
        if writer is not None:
            self._writer = writer
        if self._frames and self._catching_up is None and not self.closed:
            self._catching_up = asyncio.get_running_loop().create_task(self._catch_up(None))

    def _overflow(self) -> None:
        self.close()
        self._on_overflow()

    def close(self) -> None:
        """Stop writing; frames still queued are dropped."""
        self.closed = True
        self._frames = None
        if self._catching_up is not None:
            self._catching_up.cancel()

    def _write_now(self, text: str) -> None:
        send = self._send({"type": "websocket.send", "text": text})
        try:
            waiting_on = send.send(None)
        except StopIteration:
            return
        except Exception:
            # The socket is gone; its consumer is told by the server and cleans up.
            self.close()
            return
        self._catching_up = asyncio.get_running_loop().create_task(self._catch_up(_Resume(send, waiting_on)))

    async def _catch_up(self, in_flight: _Resume | None) -> None:
        try:
            if in_flight is not None:
                await in_flight
            while self._frames:
                text, size = self._frames.popleft()
                self._queued_bytes -= size
                await self._send({"type": "websocket.send", "text": text})
        except Exception:
            self.close()  # the socket is gone
        self._catching_up = None
