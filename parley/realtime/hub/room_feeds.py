"""Room feeds: each room this process follows, and each socket's subscription to it.

The hub keeps each room's stream in order and without gaps: it knows the next seq it expects
for every room it follows, holds an event that arrives early, and reads a missing one from the
database if it has not arrived within ``PARLEY_GAP_WAIT`` seconds. Each socket's subscription then
drops anything at or below the last seq that socket was given, so replay and live never double.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from parley.conf import parley_settings
from parley.monitoring.metrics import FANOUT_LATENCY, FRAMES_OUT, REPAIRED
from parley.monitoring.outages import DATABASE
from parley.presence.rooms import Person
from parley.realtime.database import db_call
from parley.realtime.hub.encoding import EventBatch, Format, RoomEvent, encode_json
from parley.realtime.hub.outbox import Outbox
from parley.rooms.selectors import messages_between

logger = logging.getLogger(__name__)


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
        from reading what the layer is about to deliver: at saturation that wasted repair was
        one of the largest costs in the process's profile.
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
            self._fan_out_one(events[0])
        else:
            batch = EventBatch(events)
            for subscription in self.subscriptions:
                subscription.offer_all(batch)
        FRAMES_OUT.inc(len(self.subscriptions) * len(events))

    def _fan_out_one(self, event: RoomEvent) -> None:
        """Give ``event`` to every subscription, as ``Subscription.offer`` would one by one.

        This loop runs once per subscriber for every live message, so ``offer``'s common case (a
        live subscription behind the event) is spelled out here rather than called, and the
        event's encoding is looked up once per protocol rather than once per subscription: with
        ``TransportWriter.write``'s fewer checks, that halved the hub's own time per delivery."""
        seq = event.seq
        encodings: dict[Format, tuple[str, int, bytes]] = {}
        for subscription in self.subscriptions:
            last_seq = subscription.last_seq
            if last_seq is None or seq <= last_seq:
                subscription.offer(event)  # held while its replay is read, or dropped as given already
                continue
            subscription.last_seq = seq
            encoded = encodings.get(subscription.fmt)
            if encoded is None:
                encoded = encodings[subscription.fmt] = event.encoded(subscription.fmt)
            subscription.outbox.push(*encoded)

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
