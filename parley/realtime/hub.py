"""The per-process fan-out hub.

Channels' usual shape makes every socket its own channel-layer group member, so every message is
dispatched once per socket through the layer; that saturates near 3,000 deliveries a second per
process. Parley's hub instead joins each room group once per process, on one hub channel, encodes
each event once and writes it to the local sockets itself.

The hub also keeps each room's stream in order and without gaps: it knows the next seq it expects
for every room it follows, holds an event that arrives early, and reads a missing one from the
database if it has not arrived within ``PARLEY_GAP_WAIT`` seconds. Each socket's subscription then
drops anything at or below the last seq that socket was given, so replay and live never double.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Literal

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from parley.realtime.events import ROOM_MESSAGE, room_group, start_publisher
from parley.realtime.metrics import FANOUT_LATENCY, FRAMES_OUT, HUB_HELD, REPAIRED
from parley.realtime.outages import CHANNEL_LAYER, DATABASE
from parley.rooms.selectors import messages_between, room_head, room_heads

logger = logging.getLogger(__name__)

Format = Literal["v1", "tutorial"]
SendCallable = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


def encode_json(data: dict[str, Any]) -> str:
    """The compact JSON every server frame is written in."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def message_frame_json(data: dict[str, Any]) -> str:
    """A protocol v1 ``message`` frame for a message in its wire shape."""
    return encode_json({"type": "message", **data})


class RoomEvent:
    """One stored message on its way to the sockets, encoded at most once per protocol."""

    __slots__ = ("_encoded", "data", "seq")

    def __init__(self, seq: int, data: dict[str, Any]) -> None:
        self.seq = seq
        self.data = data
        self._encoded: dict[Format, tuple[str, int]] = {}

    def encoded(self, fmt: Format) -> tuple[str, int]:
        """The frame text for ``fmt`` and its size in bytes."""
        cached = self._encoded.get(fmt)
        if cached is None:
            text = message_frame_json(self.data) if fmt == "v1" else encode_json({"message": self.data["body"]})
            cached = self._encoded[fmt] = (text, len(text.encode()))
        return cached


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
    socket per message, which was a third of the fan-out's time (py-spy, 1,000-socket room). Only
    a socket whose client reads slowly gets a task, which writes what queued up meanwhile; when
    the queued bytes would pass ``limit``, ``on_overflow`` is called once and the outbox closes.
    """

    def __init__(
        self,
        send: SendCallable,
        *,
        limit: int,
        on_overflow: Callable[[], None],
        backlog: Callable[[], int] | None = None,
    ) -> None:
        self._send = send
        # Servers that never make ``send`` wait (Daphne) report their own write backlog instead.
        self._backlog = backlog
        self._limit = limit
        self._on_overflow = on_overflow
        self._frames: deque[tuple[str, int]] = deque()
        self._queued_bytes = 0
        self._catching_up: asyncio.Task[None] | None = None
        self.closed = False

    def push(self, text: str, size: int | None = None) -> None:
        """Write a text frame now, or queue it behind the frames still waiting."""
        if self.closed:
            return
        if self._catching_up is None:
            self._write_now(text)
            if self._backlog is not None and self._backlog() > self._limit:
                self._overflow()
            return
        size = len(text) if size is None else size
        if self._queued_bytes + size > self._limit:
            self._overflow()
            return
        self._frames.append((text, size))
        self._queued_bytes += size

    def _overflow(self) -> None:
        self.close()
        self._on_overflow()

    def close(self) -> None:
        """Stop writing; frames still queued are dropped."""
        self.closed = True
        self._frames.clear()
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

    async def _catch_up(self, in_flight: _Resume) -> None:
        try:
            await in_flight
            while self._frames:
                text, size = self._frames.popleft()
                self._queued_bytes -= size
                await self._send({"type": "websocket.send", "text": text})
        except Exception:
            self.close()  # the socket is gone
        self._catching_up = None


class Subscription:
    """One socket's place in one room's stream.

    Until ``activate`` is called (the socket's replay is being read) live events are kept aside;
    afterwards only events above the last seq the socket was given go out.
    """

    __slots__ = ("_held", "feed", "fmt", "last_seq", "outbox")

    def __init__(self, feed: RoomFeed, outbox: Outbox, fmt: Format) -> None:
        self.feed = feed
        self.outbox = outbox
        self.fmt = fmt
        self.last_seq: int | None = None
        self._held: list[RoomEvent] = []

    def offer(self, event: RoomEvent) -> None:
        if self.last_seq is None:
            self._held.append(event)
        elif event.seq > self.last_seq:
            self.last_seq = event.seq
            self.outbox.push(*event.encoded(self.fmt))

    def activate(self, last_seq: int) -> None:
        """Go live: the socket has been given everything up to ``last_seq``."""
        self.last_seq = last_seq
        held, self._held = self._held, []
        for event in held:
            self.offer(event)


class RoomFeed:
    """A room followed by this process: its next expected seq and its local subscriptions."""

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.subscriptions: set[Subscription] = set()
        self.ready = asyncio.Event()
        self._next_seq = 0
        # The highest seq known to be stored, from events or from the database: every seq from
        # _next_seq up to it must be delivered, from the layer or, failing that, from storage.
        self._known_head = 0
        self._early: dict[int, dict[str, Any]] = {}
        self._repair: asyncio.TimerHandle | None = None
        self._repairing = False

    def start(self, head: int) -> None:
        """The room's stored head when the hub joined its group: the stream continues from there."""
        self._next_seq = head + 1
        self._known_head = max(self._known_head, head)
        self.ready.set()
        self._deliver_in_order()

    def accept(self, seq: int, data: dict[str, Any], stored_at: float | None = None) -> None:
        """An event from the channel layer: deliver it in order, or hold it until its turn."""
        if self.ready.is_set() and seq < self._next_seq:
            return  # already delivered, or older than this feed
        if stored_at is not None:
            FANOUT_LATENCY.observe(max(0.0, time.time() - stored_at))
        self._early[seq] = data
        self._known_head = max(self._known_head, seq)
        if self.ready.is_set():
            self._deliver_in_order()

    def expect(self, head: int) -> None:
        """The database says the room's newest seq is ``head``; whatever is missing up to it is repaired."""
        if self.ready.is_set() and head > self._known_head:
            self._known_head = head
            self._deliver_in_order()

    def _deliver_in_order(self) -> None:
        for seq in [seq for seq in self._early if seq < self._next_seq]:
            del self._early[seq]
        while self._next_seq in self._early:
            self._fan_out(RoomEvent(self._next_seq, self._early.pop(self._next_seq)))
            self._next_seq += 1
        if self._known_head >= self._next_seq and self._repair is None and not self._repairing:
            loop = asyncio.get_running_loop()
            self._repair = loop.call_later(settings.PARLEY_GAP_WAIT, self._start_repair)

    def _fan_out(self, event: RoomEvent) -> None:
        for subscription in self.subscriptions:
            subscription.offer(event)
        FRAMES_OUT.inc(len(self.subscriptions))

    @property
    def held(self) -> int:
        """How many events wait for a missing seq."""
        return len(self._early)

    def _start_repair(self) -> None:
        self._repair = None
        if self._known_head >= self._next_seq and not self._repairing:
            self._repairing = True
            self._repair_task = asyncio.get_running_loop().create_task(self._repair_gap())

    async def _repair_gap(self) -> None:
        """Read the messages that have not arrived through the layer from the database."""
        after, upto = self._next_seq - 1, self._known_head
        try:
            rows = await database_sync_to_async(messages_between)(room_id=self.room_id, after=after, upto=upto)
        except Exception:
            DATABASE.failed()
            rows = []
        else:
            DATABASE.recovered()
        finally:
            self._repairing = False
        if rows:
            REPAIRED.inc(len(rows))
            logger.info("room %s: read %d message(s) the layer did not deliver from storage", self.room_id, len(rows))
        for row in rows:
            self._early.setdefault(row["seq"], row)
        self._deliver_in_order()


class Hub:
    """Joins room groups once per process and fans their events out to local sockets."""

    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self.channel = ""
        self.feeds: dict[int, RoomFeed] = {}
        self._started = asyncio.Lock()
        self._membership = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        # Groups expire in the layer (RedisChannelLayer: group_expiry, a day by default); re-join
        # well before that, and at once after the layer comes back (a restarted Redis forgets them).
        self._rejoin_every = min(float(getattr(layer, "group_expiry", 86400)) / 2, 600.0)
        # CHANNEL_LAYER.failures when every group was last joined: any failure since (a restarted
        # Redis forgets groups) calls for joining again, even if a publish saw the layer recover first.
        self._joined_after = CHANNEL_LAYER.failures

    async def subscribe(self, room_id: int, outbox: Outbox, fmt: Format = "v1") -> Subscription:
        """Add a socket to a room's stream; call ``activate`` on the result once it has replayed."""
        await self._start()
        feed = self.feeds.get(room_id)
        if feed is None:
            feed = self.feeds[room_id] = RoomFeed(room_id)
            try:
                await self._open(feed)
            except BaseException:
                del self.feeds[room_id]
                feed.ready.set()
                raise
        await feed.ready.wait()
        subscription = Subscription(feed, outbox, fmt)
        feed.subscriptions.add(subscription)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        """Remove a socket from a room's stream; the last one out leaves the room's group."""
        feed = subscription.feed
        feed.subscriptions.discard(subscription)
        if feed.subscriptions or self.feeds.get(feed.room_id) is not feed:
            return
        del self.feeds[feed.room_id]
        async with self._membership:
            await self.layer.group_discard(room_group(feed.room_id), self.channel)

    async def _open(self, feed: RoomFeed) -> None:
        try:
            async with self._membership:
                await self.layer.group_add(room_group(feed.room_id), self.channel)
        except Exception:
            # The layer is down: the room is followed from storage by the sweep until the
            # layer is back and the sweep re-joins its group.
            CHANNEL_LAYER.failed()
        # The head is read after joining the group, so every later message either arrives
        # through the group or is repaired from storage: none can fall between the two.
        head = await database_sync_to_async(room_head)(room_id=feed.room_id)
        feed.start(head)

    async def _start(self) -> None:
        async with self._started:
            if self._reader is None:
                self.channel = await self.layer.new_channel("parley.hub.")
                loop = asyncio.get_running_loop()
                start_publisher(self.layer)
                self._reader = loop.create_task(self._read_forever())
                self._sweeper = loop.create_task(self._sweep_forever())

    async def _read_forever(self) -> None:
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                CHANNEL_LAYER.failed()
                await asyncio.sleep(1.0)
                continue
            if self._joined_after != CHANNEL_LAYER.failures:
                await self._rejoin()
            self._dispatch(event)

    async def _sweep_forever(self) -> None:
        """Compare each followed room's stored head with what was delivered, every
        ``PARLEY_SWEEP_INTERVAL`` seconds: this repairs a lost *last* message, which no later
        event would reveal, and whatever was stored while the layer was down."""
        last_join = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(settings.PARLEY_SWEEP_INTERVAL)
            if not self.feeds:
                continue
            if (
                self._joined_after != CHANNEL_LAYER.failures
                or asyncio.get_running_loop().time() - last_join > self._rejoin_every
            ):
                await self._rejoin()
                last_join = asyncio.get_running_loop().time()
            try:
                heads = await database_sync_to_async(room_heads)(room_ids=list(self.feeds))
            except Exception:
                DATABASE.failed()
                continue
            DATABASE.recovered()
            HUB_HELD.set(sum(feed.held for feed in self.feeds.values()))
            for room_id, head in heads.items():
                feed = self.feeds.get(room_id)
                if feed is not None:
                    feed.expect(head)

    async def _rejoin(self) -> None:
        """Join every followed room's group again (a no-op for groups the layer still has)."""
        failures = CHANNEL_LAYER.failures
        try:
            async with self._membership:
                for room_id in list(self.feeds):
                    await self.layer.group_add(room_group(room_id), self.channel)
        except Exception:
            CHANNEL_LAYER.failed()
        else:
            self._joined_after = failures
            CHANNEL_LAYER.recovered()

    def _dispatch(self, event: dict[str, Any]) -> None:
        if event.get("type") != ROOM_MESSAGE:
            logger.warning("hub ignored an event of unknown type %r", event.get("type"))
            return
        feed = self.feeds.get(event["room_id"])
        if feed is not None:
            feed.accept(event["seq"], event["message"], event.get("stored_at"))


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """This process's hub (one per event loop, for the default channel layer)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        layer = get_channel_layer()
        if layer is None:
            raise RuntimeError("Parley needs a channel layer: set CHANNEL_LAYER_URL (memory:// for one process).")
        hub = _hubs[loop] = Hub(layer)
    return hub
