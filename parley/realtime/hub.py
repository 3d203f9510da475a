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
from collections.abc import Callable, Collection, Coroutine, Generator
from dataclasses import dataclass
from typing import Any, Literal

from channels.layers import BaseChannelLayer, get_channel_layer

from parley.conf import parley_settings
from parley.notifications.selectors import notifications_after, notifications_newest_ids
from parley.realtime.database import db_call
from parley.realtime.events import (
    ROOM_CLOSED,
    ROOM_FRAME,
    ROOM_KICK,
    ROOM_MESSAGE,
    TOKEN_REVOKED,
    TOKENS_GROUP,
    USER_FRAME,
    USER_NOTIFICATION,
    USER_SIGNED_OUT,
    USER_UNREAD,
    forget_signed_out_tokens,
    publish_room_frame,
    room_group,
    start_publisher,
    user_group,
)
from parley.realtime.metrics import FANOUT_LATENCY, FRAMES_OUT, HUB_HELD, REPAIRED
from parley.realtime.online import OnlinePublisher
from parley.realtime.outages import CHANNEL_LAYER, DATABASE
from parley.realtime.presence import Person, PresenceBoard
from parley.realtime.tokens import token_forget
from parley.realtime.uvicorn_compat import TransportWriter, text_frame
from parley.rooms.selectors import messages_between, room_head, room_heads

logger = logging.getLogger(__name__)

Format = Literal["v1", "tutorial"]
SendCallable = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


def encode_json(data: dict[str, Any]) -> str:
    """The compact JSON every server frame is written in."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def presence_diff(room: str, joined: list[Person] | None = None, left: list[Person] | None = None) -> dict[str, Any]:
    """A ``presence_diff`` frame: who arrived in or left the room."""
    return {"type": "presence_diff", "room": room, "joined": joined or [], "left": left or []}


def message_frame_json(data: dict[str, Any]) -> str:
    """A protocol v1 ``message`` frame for a message in its wire shape."""
    return encode_json({"type": "message", **data})


class RoomEvent:
    """One stored message on its way to the sockets, encoded at most once per protocol."""

    __slots__ = ("_encoded", "data", "seq")

    def __init__(self, seq: int, data: dict[str, Any]) -> None:
        self.seq = seq
        self.data = data
        self._encoded: dict[Format, tuple[str, int, bytes]] = {}

    def encoded(self, fmt: Format) -> tuple[str, int, bytes]:
        """The frame text for ``fmt``, its size in bytes, and the whole WebSocket frame."""
        cached = self._encoded.get(fmt)
        if cached is None:
            text = message_frame_json(self.data) if fmt == "v1" else encode_json({"message": self.data["body"]})
            frame = text_frame(text)
            cached = self._encoded[fmt] = (text, len(frame), frame)
        return cached


class EventBatch:
    """Consecutive stored messages that became deliverable together: a backlog read from storage,
    or events that waited for a missing one. Each protocol's frames are joined into one buffer, so
    a socket gets the whole run in one write instead of a write per message.

    A hub that falls behind (at saturation, say) catches up this way: writing the run of 50
    messages that a repair read to 1,000 sockets takes 1,000 writes, not 50,000.
    """

    __slots__ = ("_joined", "events")

    def __init__(self, events: list[RoomEvent]) -> None:
        self.events = events
        self._joined: dict[Format, bytes] = {}

    def joined(self, fmt: Format) -> bytes:
        """Every event's whole WebSocket frame for ``fmt``, back to back."""
        joined = self._joined.get(fmt)
        if joined is None:
            joined = self._joined[fmt] = b"".join(event.encoded(fmt)[2] for event in self.events)
        return joined


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


@dataclass(frozen=True, slots=True, eq=False)
class Listener:
    """Who is behind a subscription: ``key`` as ``Identity.key`` (so a person's own typing is not
    echoed to them), ``user_id`` (whom a ban, a removal or a room made private removes), and
    ``removed(room_id, detail)``, called when the room is taken away from them."""

    key: str
    user_id: int | None
    removed: Callable[[int, str], None]
    # The person as others see them ({id, name, guest}); the subscription counts in the room's presence.
    person: Person | None = None


class Subscription:
    """One socket's place in one room's stream.

    Until ``activate`` is called (the socket's replay is being read) live events and frames are
    kept aside, in order; afterwards only events above the last seq the socket was given go out.
    """

    __slots__ = ("_held", "feed", "fmt", "last_seq", "listener", "outbox")

    def __init__(self, feed: RoomFeed, outbox: Outbox, fmt: Format, listener: Listener | None = None) -> None:
        self.feed = feed
        self.outbox = outbox
        self.fmt = fmt
        self.listener = listener
        self.last_seq: int | None = None
        self._held: list[RoomEvent | str] = []

    def offer(self, event: RoomEvent) -> None:
        if self.last_seq is None:
            self._held.append(event)
        elif event.seq > self.last_seq:
            self.last_seq = event.seq
            self.outbox.push(*event.encoded(self.fmt))

    def offer_all(self, batch: EventBatch) -> None:
        """Consecutive events at once, as ``offer`` would give them one by one."""
        if self.last_seq is None or batch.events[0].seq <= self.last_seq:
            for event in batch.events:
                self.offer(event)
            return
        self.last_seq = batch.events[-1].seq
        self.outbox.push_all(batch, self.fmt)

    def offer_frame(self, text: str) -> None:
        """A frame that is not a stored message (protocol v1 sockets only), after what came before it."""
        if self.fmt != "v1":
            return
        if self.last_seq is None:
            self._held.append(text)
        else:
            self.outbox.push(text)

    def activate(self, last_seq: int) -> None:
        """Go live: the socket has been given everything up to ``last_seq``."""
        self.last_seq = last_seq
        held, self._held = self._held, []
        for item in held:
            if isinstance(item, str):
                self.outbox.push(item)
            else:
                self.offer(item)


class RoomFeed:
    """A room followed by this process: its next expected seq and its local subscriptions."""

    def __init__(self, room_id: int, slug: str = "") -> None:
        self.room_id = room_id
        self.slug = slug
        self.subscriptions: set[Subscription] = set()
        self.ready = asyncio.Event()
        self._next_seq = 0
        # The highest seq known to be stored, from events or from the database: every seq from
        # _next_seq up to it must be delivered, from the layer or, failing that, from storage.
        self._known_head = 0
        self._swept_head = 0  # the head the last sweep read
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
        """The sweep read the room's newest stored seq: what the *previous* sweep read and is still
        not delivered is repaired.

        Waiting one sweep interval keeps a busy hub, whose events arrive late rather than never,
        from reading what the layer is about to deliver: at saturation that wasted repair took a
        quarter of the process's samples (py-spy, 1,000-receiver room flat out).
        """
        previous, self._swept_head = self._swept_head, head
        if self.ready.is_set() and previous > self._known_head:
            self._known_head = previous
            self._deliver_in_order()

    def _deliver_in_order(self) -> None:
        for seq in [seq for seq in self._early if seq < self._next_seq]:
            del self._early[seq]
        ready: list[RoomEvent] = []
        while self._next_seq in self._early:
            ready.append(RoomEvent(self._next_seq, self._early.pop(self._next_seq)))
            self._next_seq += 1
        if ready:
            self._fan_out(ready)
        if self._known_head >= self._next_seq and self._repair is None and not self._repairing:
            loop = asyncio.get_running_loop()
            self._repair = loop.call_later(parley_settings.GAP_WAIT, self._start_repair)

    def broadcast(
        self, frame: dict[str, Any], exclude: str | None = None, personal: dict[str, dict[str, Any]] | None = None
    ) -> None:
        """A frame to every protocol v1 subscription, but those of the identity keyed ``exclude``;
        ``personal`` maps a user id (as a string) to fields that user's sockets get instead
        (``mine`` of a ``reactions`` frame, say). Each distinct frame is encoded once."""
        texts: dict[str, str] = {}
        for subscription in self.subscriptions:
            listener = subscription.listener
            if exclude is not None and listener is not None and listener.key == exclude:
                continue
            user = str(listener.user_id) if listener is not None and personal and listener.user_id else ""
            text = texts.get(user)
            if text is None:
                own = personal.get(user) if personal and user else None
                text = texts[user] = encode_json({**frame, **own} if own else frame)
            subscription.offer_frame(text)

    def kick(self, user_id: int, detail: str) -> None:
        """Take the room away from the sockets of ``user_id``."""
        self._take_away(detail, lambda listener: listener.user_id == user_id)

    def close_to_all_but(self, readers: Collection[int], detail: str) -> None:
        """Take the room away from every socket whose user is not one of ``readers``, guests included."""
        self._take_away(detail, lambda listener: listener.user_id not in readers)

    def _take_away(self, detail: str, whom: Callable[[Listener], bool]) -> None:
        for subscription in list(self.subscriptions):
            listener = subscription.listener
            if listener is not None and whom(listener):
                listener.removed(self.room_id, detail)

    def _fan_out(self, events: list[RoomEvent]) -> None:
        if len(events) == 1:
            for subscription in self.subscriptions:
                subscription.offer(events[0])
        else:
            batch = EventBatch(events)
            for subscription in self.subscriptions:
                subscription.offer_all(batch)
        FRAMES_OUT.inc(len(self.subscriptions) * len(events))

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
            rows = await db_call(messages_between)(room_id=self.room_id, after=after, upto=upto)
        except Exception:
            DATABASE.failed()
            rows = []
        else:
            DATABASE.recovered()
        finally:
            self._repairing = False
        if rows:
            REPAIRED.inc(len(rows))
            logger.info(
                "room %s: read %d message(s) the layer did not deliver from storage",
                self.room_id,
                len(rows),
                extra={"room_id": self.room_id, "repaired": len(rows)},
            )
        for row in rows:
            self._early.setdefault(row["seq"], row)
        self._deliver_in_order()


class RecentIds:
    """The last ``size`` ids seen, for dropping a notification that was already sent."""

    __slots__ = ("_order", "_seen", "size")

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._order: deque[int] = deque()
        self._seen: set[int] = set()

    def add(self, value: int) -> bool:
        """Remember ``value``; False if it was already remembered."""
        if value in self._seen:
            return False
        self._seen.add(value)
        self._order.append(value)
        if len(self._order) > self.size:
            self._seen.discard(self._order.popleft())
        return True

    def __contains__(self, value: int) -> bool:
        return value in self._seen


@dataclass(frozen=True, slots=True, eq=False)
class SignIn:
    """How one socket of a signed-in user signed in (either protocol), and ``end(detail)``, called
    when that sign-in ends: its token revoked, its session logged out, the user's password changed
    (for session sockets) or the account deactivated or deleted (for all)."""

    user_id: int
    token_id: int | None
    session_key: str | None
    session_hash: str
    end: Callable[[str], None]

    def ended_by(self, event: dict[str, Any]) -> bool:
        """Whether a ``token.revoked`` or ``user.signed_out`` event of this user ends this sign-in."""
        if event["type"] == TOKEN_REVOKED:
            return self.token_id is not None and self.token_id == int(event["token_id"])
        session_key: str | None = event.get("session_key")
        if session_key is not None:
            return self.session_key == session_key
        session_hash: str | None = event.get("session_hash")
        if session_hash is not None:
            return self.session_key is not None and self.session_hash != session_hash
        return True


TOKEN_REVOKED_DETAIL = "The API token of this connection was revoked."


class Inbox:
    """One socket's share of its user's events: notifications and unread counts.

    Notification ids are not contiguous per user (they are global ids), so unlike a room stream
    the inbox drops repeats by remembering what it sent. While the socket's replay is read
    (``hold``), live notifications wait, and are sent afterwards unless the replay had them.
    """

    __slots__ = ("_held", "_sent", "outbox", "user_id")

    def __init__(self, user_id: int, outbox: Outbox) -> None:
        self.user_id = user_id
        self.outbox = outbox
        self._sent: RecentIds | None = None  # made on the first notification: most sockets never get one
        self._held: list[tuple[int, str]] | None = None

    def offer(self, notification_id: int, text: str) -> None:
        """Send a notification frame unless this socket has had it."""
        if self._held is not None:
            self._held.append((notification_id, text))
        elif self.sent.add(notification_id):
            self.outbox.push(text)

    @property
    def sent(self) -> RecentIds:
        """The notifications this socket was given lately."""
        if self._sent is None:
            self._sent = RecentIds()
        return self._sent

    def replayed(self, notification_id: int, text: str) -> None:
        """Send a notification read for the socket's replay (live ones may be held meanwhile)."""
        if self.sent.add(notification_id):
            self.outbox.push(text)

    def hold(self) -> None:
        """Keep live notifications aside while a replay is read."""
        if self._held is None:
            self._held = []

    def release(self) -> None:
        """Send what was kept aside (what the replay already sent is dropped)."""
        held, self._held = self._held or [], None
        for notification_id, text in held:
            self.offer(notification_id, text)


class UserFeed:
    """A user followed by this process: the inboxes of their local sockets.

    ``watermark`` is the newest notification id the head sweep has seen stored for the user: every
    notification up to it has been given to the inboxes, from the layer or from storage. Because
    ``notify`` stores each user's notifications in id order, none can appear below it later.
    """

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.inboxes: set[Inbox] = set()
        self.watermark: int | None = None
        self._delivered = RecentIds()

    def notification(self, data: dict[str, Any], unread: int | None) -> None:
        """A notification from the layer or from storage: to every inbox, once."""
        notification_id = int(data["id"])
        # Not below the watermark (the sweep read it from storage already), and not twice.
        if (self.watermark is None or notification_id > self.watermark) and self._delivered.add(notification_id):
            text = encode_json({"type": "notification", **data})
            for inbox in self.inboxes:
                inbox.offer(notification_id, text)
            FRAMES_OUT.inc(len(self.inboxes))
        if unread is not None:
            # Only the layer's event carries the count: when the sweep won the race and delivered
            # the notification from storage, the count must still go out.
            self.unread(unread)

    def unread(self, count: int) -> None:
        self.frame({"type": "notifications_unread", "count": count})

    def frame(self, frame: dict[str, Any]) -> None:
        """A frame for every socket of the user, encoded once."""
        text = encode_json(frame)
        for inbox in self.inboxes:
            inbox.outbox.push(text)

    def catch_up(self, newest: int, rows: list[dict[str, Any]]) -> None:
        """The sweep's reading: deliver what the layer did not, then move the watermark."""
        for row in rows:
            self.notification(row, None)
        if rows:
            REPAIRED.inc(len(rows))
        self.watermark = max(newest, self.watermark or 0)


class Hub:
    """Joins room and user groups once per process and fans their events out to local sockets."""

    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self.channel = ""
        self.feeds: dict[int, RoomFeed] = {}
        self.users: dict[int, UserFeed] = {}
        # Every signed-in socket of this process, by user, to close when its sign-in ends.
        self.sign_ins: dict[int, set[SignIn]] = {}
        self.online = OnlinePublisher()
        self.presence = PresenceBoard()
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

    async def subscribe(
        self, room_id: int, outbox: Outbox, fmt: Format = "v1", listener: Listener | None = None, slug: str = ""
    ) -> Subscription:
        """Add a socket to a room's stream; call ``activate`` on the result once it has replayed.

        A listener with a ``person`` makes them present in the room (``slug`` names it in the
        ``presence_diff`` that announces an arrival).
        """
        await self._start()
        feed = self.feeds.get(room_id)
        if feed is None:
            feed = self.feeds[room_id] = RoomFeed(room_id, slug)
            try:
                await self._open(feed)
            except BaseException:
                del self.feeds[room_id]
                feed.ready.set()
                raise
        await feed.ready.wait()
        subscription = Subscription(feed, outbox, fmt, listener)
        feed.subscriptions.add(subscription)
        if listener is not None and listener.person is not None:
            arrived = await self.presence.arrive(room_id, listener.key, listener.person)
            if arrived:  # the newcomer's own socket learns it from ``presence``
                publish_room_frame(room_id, presence_diff(feed.slug, joined=[listener.person]), exclude=listener.key)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        """Remove a socket from a room's stream; the last one out leaves the room's group."""
        feed = subscription.feed
        if subscription not in feed.subscriptions:
            return
        feed.subscriptions.discard(subscription)
        listener = subscription.listener
        if listener is not None and listener.person is not None:
            gone = await self.presence.depart(feed.room_id, listener.key)
            if gone is not None:
                publish_room_frame(feed.room_id, presence_diff(feed.slug, left=[gone]))
        if feed.subscriptions or self.feeds.get(feed.room_id) is not feed:
            return
        del self.feeds[feed.room_id]
        async with self._membership:
            await self.layer.group_discard(room_group(feed.room_id), self.channel)

    async def present(self, room_id: int) -> list[Person]:
        """Everyone following the room, on any process (each person once)."""
        return await self.presence.people(room_id)

    async def attach(self, inbox: Inbox) -> None:
        """Start giving a socket its user's events; the user's first socket joins the user group."""
        await self._start()
        feed = self.users.get(inbox.user_id)
        created = feed is None
        if feed is None:
            feed = self.users[inbox.user_id] = UserFeed(inbox.user_id)
        # In the feed before anything can yield: a socket of the same user closing meanwhile must
        # not find the new feed empty and take it away.
        feed.inboxes.add(inbox)
        if created:
            try:
                async with self._membership:
                    await self.layer.group_add(user_group(inbox.user_id), self.channel)
            except Exception:
                CHANNEL_LAYER.failed()  # the sweep re-joins, and reads what is missed meanwhile
            # Read after joining the group, as a room's head is: any notification stored later
            # comes through the group or, failing that, from the sweep.
            try:
                newest = await db_call(notifications_newest_ids)(user_ids=[inbox.user_id])
            except Exception:
                DATABASE.failed()  # the first sweep sets the watermark instead
            else:
                feed.watermark = max(feed.watermark or 0, newest.get(inbox.user_id, 0))
            await self.online.came(inbox.user_id)

    async def detach(self, inbox: Inbox) -> None:
        """Stop giving a socket its user's events; the user's last socket leaves the user group."""
        feed = self.users.get(inbox.user_id)
        if feed is None:
            return
        feed.inboxes.discard(inbox)
        if feed.inboxes:
            return
        del self.users[inbox.user_id]
        # Leave the group before anything else can yield: a socket of the same user attaching
        # meanwhile joins after this, under the same lock, and is not left out of the group.
        async with self._membership:
            await self.layer.group_discard(user_group(inbox.user_id), self.channel)
        await self.online.went(inbox.user_id)

    async def sign_in(self, sign_in: SignIn) -> None:
        """Close a socket when its sign-in ends (``SignIn``), whichever process ends it."""
        await self._start()  # which joins the group such endings go to
        self.sign_ins.setdefault(sign_in.user_id, set()).add(sign_in)

    def sign_out(self, sign_in: SignIn) -> None:
        """Forget a socket that closed."""
        sockets = self.sign_ins.get(sign_in.user_id)
        if sockets is not None:
            sockets.discard(sign_in)
            if not sockets:
                del self.sign_ins[sign_in.user_id]

    def _end_sign_ins(self, event: dict[str, Any]) -> None:
        """A token revoked or a user signed out: forget cached tokens, close the sockets it ends."""
        if event["type"] == TOKEN_REVOKED:
            token_forget(event["token_id"])
            detail = TOKEN_REVOKED_DETAIL
        else:
            forget_signed_out_tokens(event)
            detail = event["detail"]
        for sign_in in list(self.sign_ins.get(event["user_id"], ())):
            if sign_in.ended_by(event):
                sign_in.end(detail)

    async def _join(self, group: str) -> None:
        """Join a group this process follows for as long as it runs; the sweep re-joins after failures."""
        try:
            async with self._membership:
                await self.layer.group_add(group, self.channel)
        except Exception:
            CHANNEL_LAYER.failed()

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
        head = await db_call(room_head)(room_id=feed.room_id)
        feed.start(head)

    async def _start(self) -> None:
        async with self._started:
            if self._reader is None:
                self.channel = await self.layer.new_channel("parley.hub.")
                self.presence.hub_id = self.channel
                await self._join(TOKENS_GROUP)
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
            try:
                self._dispatch(event)
            except Exception:
                # One malformed event (from a process of another version, say) must not end the
                # reading, and with it every delivery of this process.
                logger.exception("hub could not dispatch an event of type %r", event.get("type"))

    async def _sweep_forever(self) -> None:
        """Every ``PARLEY_SWEEP_INTERVAL`` seconds: re-join groups when due, and compare what is
        stored with what was delivered, for each followed room (this repairs a lost *last*
        message, which no later event would reveal, and whatever was stored while the layer was
        down) and each followed user's notifications."""
        last_join = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(parley_settings.SWEEP_INTERVAL)
            if (
                self._joined_after != CHANNEL_LAYER.failures
                or asyncio.get_running_loop().time() - last_join > self._rejoin_every
            ):
                await self._rejoin()
                last_join = asyncio.get_running_loop().time()
            if not self.feeds and not self.users:
                continue
            await self._sweep_presence()
            try:
                await self._sweep_rooms()
                await self._sweep_users()
            except Exception:
                DATABASE.failed()
                continue
            DATABASE.recovered()

    async def _sweep_presence(self) -> None:
        """Renew this process's presence claims; announce who left with a process that stopped."""
        if not self.presence.due():
            return
        await self.presence.heartbeat()
        for room_id, person in await self.presence.expired(list(self.feeds)):
            feed = self.feeds.get(room_id)
            if feed is not None:
                publish_room_frame(room_id, presence_diff(feed.slug, left=[person]))

    async def _sweep_rooms(self) -> None:
        heads = await db_call(room_heads)(room_ids=list(self.feeds))
        HUB_HELD.set(sum(feed.held for feed in self.feeds.values()))
        for room_id, head in heads.items():
            feed = self.feeds.get(room_id)
            if feed is not None:
                feed.expect(head)

    async def _sweep_users(self) -> None:
        if not self.users:
            return
        await self.online.heartbeat(list(self.users))
        newest = await db_call(notifications_newest_ids)(user_ids=list(self.users))
        for user_id in list(self.users):
            newest_id = newest.get(user_id, 0)
            feed = self.users.get(user_id)
            if feed is None or (feed.watermark is not None and newest_id <= feed.watermark):
                continue
            rows: list[dict[str, Any]] = []
            if feed.watermark is not None:
                rows = await db_call(notifications_after)(user_id=user_id, after=feed.watermark)
            # A feed's first sweep only sets the watermark: its sockets replay what came before.
            if self.users.get(user_id) is feed:
                feed.catch_up(newest_id, rows)

    async def _rejoin(self) -> None:
        """Join every followed group again (a no-op for groups the layer still has)."""
        failures = CHANNEL_LAYER.failures
        try:
            async with self._membership:
                for room_id in list(self.feeds):
                    await self.layer.group_add(room_group(room_id), self.channel)
                for user_id in list(self.users):
                    await self.layer.group_add(user_group(user_id), self.channel)
                await self.layer.group_add(TOKENS_GROUP, self.channel)
        except Exception:
            CHANNEL_LAYER.failed()
        else:
            self._joined_after = failures
            CHANNEL_LAYER.recovered()

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind in (ROOM_MESSAGE, ROOM_FRAME, ROOM_KICK, ROOM_CLOSED):
            feed = self.feeds.get(event["room_id"])
            if feed is None:
                return
            if kind == ROOM_MESSAGE:
                feed.accept(event["seq"], event["message"], event.get("stored_at"))
            elif kind == ROOM_FRAME:
                feed.broadcast(event["frame"], event.get("exclude"), event.get("personal"))
            elif kind == ROOM_KICK:
                feed.kick(event["user_id"], event["detail"])
            else:
                feed.close_to_all_but(set(event["readers"]), event["detail"])
            return
        if kind in (TOKEN_REVOKED, USER_SIGNED_OUT):
            self._end_sign_ins(event)
            return
        if kind not in (USER_NOTIFICATION, USER_UNREAD, USER_FRAME):
            logger.warning("hub ignored an event of unknown type %r", kind, extra={"event_type": kind})
            return
        user = self.users.get(event["user_id"])
        if user is None:
            return  # the user has no socket here (any more)
        if kind == USER_NOTIFICATION:
            user.notification(event["notification"], event.get("unread"))
        elif kind == USER_UNREAD:
            user.unread(event["unread"])
        else:
            user.frame(event["frame"])


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
