"""The per-process fan-out hub.

Channels' usual shape makes every socket its own channel-layer group member, so every message is
dispatched once per socket through the layer; that saturates near 3,000 deliveries a second per
process. Parley's hub instead joins each room group once per process, on one hub channel, encodes
each event once and writes it to the local sockets itself.

The hub is the coordinator: it joins and leaves the groups, sweeps storage for what the layer lost,
and hands each event it reads to the method named after the event's type (``room.message`` →
``Hub.room_message``, as Channels names a consumer's handlers), which passes it to the room's or
the user's feed (``room_feeds``, ``user_feeds``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.layers import BaseChannelLayer, get_channel_layer

from parley.accounts.token_cache import token_forget, token_forget_signed_out
from parley.conf import parley_settings
from parley.events.publish import (
    ROOM_CLOSED,
    ROOM_FRAME,
    ROOM_KICK,
    ROOM_MESSAGE,
    ROOMS_FRAMES,
    ROOMS_GROUP,
    TOKEN_REVOKED,
    TOKENS_GROUP,
    USER_FRAME,
    USER_NOTIFICATION,
    USER_SIGNED_OUT,
    USER_UNREAD,
    publish_room_frame,
    publish_room_frames,
    room_group,
    start_publisher,
    user_group,
)
from parley.monitoring.metrics import HUB_HELD
from parley.monitoring.outages import CHANNEL_LAYER, DATABASE
from parley.notifications.selectors import notifications_after, notifications_newest_ids
from parley.presence.online import OnlinePublisher
from parley.presence.rooms import Person, PresenceBoard
from parley.realtime.database import db_call
from parley.realtime.hub.encoding import Format
from parley.realtime.hub.outbox import Outbox
from parley.realtime.hub.room_feeds import Listener, RoomFeed, Subscription
from parley.realtime.hub.sign_ins import TOKEN_REVOKED_DETAIL, SignIn
from parley.realtime.hub.user_feeds import Inbox, UserFeed
from parley.rooms.selectors import room_head, room_heads

logger = logging.getLogger(__name__)


def presence_diff(room: str, joined: list[Person] | None = None, left: list[Person] | None = None) -> dict[str, Any]:
    """A ``presence_diff`` frame: who arrived in or left the room."""
    return {"type": "presence_diff", "room": room, "joined": joined or [], "left": left or []}


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
        # Departures not yet announced, by room (slug, people): a burst is one presence_diff a room.
        self._leaving: dict[int, tuple[str, list[Person]]] = {}
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
                self._announce_departures(room_id)  # a leaving before this arrival is told first
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
                self._depart_later(feed.room_id, feed.slug, gone)
        if feed.subscriptions or self.feeds.get(feed.room_id) is not feed:
            return
        del self.feeds[feed.room_id]
        async with self._membership:
            await self.layer.group_discard(room_group(feed.room_id), self.channel)

    def _depart_later(self, room_id: int, slug: str, person: Person) -> None:
        """Announce a departure with the others decided in the same moment (a batch of releases
        answers together): when a thousand sockets close at once, one ``presence_diff`` a room."""
        if not self._leaving:
            asyncio.get_running_loop().call_soon(self._announce_departures)
        self._leaving.setdefault(room_id, (slug, []))[1].append(person)

    def _announce_departures(self, room_id: int | None = None) -> None:
        """Publish the waiting departures of one room, or of every room (in one event for them all:
        the other processes read one event for a burst, not one a room)."""
        if room_id is not None:
            waiting = self._leaving.pop(room_id, None)
            if waiting is not None:
                publish_room_frame(room_id, presence_diff(waiting[0], left=waiting[1]))
            return
        leaving, self._leaving = self._leaving, {}
        if leaving:
            publish_room_frames({room: presence_diff(slug, left=people) for room, (slug, people) in leaving.items()})

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
                await self._join(ROOMS_GROUP)
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
                self._depart_later(room_id, feed.slug, person)

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
                await self.layer.group_add(ROOMS_GROUP, self.channel)
        except Exception:
            CHANNEL_LAYER.failed()
        else:
            self._joined_after = failures
            CHANNEL_LAYER.recovered()

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        handler = HANDLERS.get(kind)  # type: ignore[arg-type]  # a missing type finds no handler
        if handler is None:
            logger.warning("hub ignored an event of unknown type %r", kind, extra={"event_type": kind})
            return
        handler(self, event)

    # The events the hub follows, each handled by the method named after its type (HANDLERS).

    def room_message(self, event: dict[str, Any]) -> None:
        """Called for ``room.message``: a stored message, to the room's feed to deliver in seq order."""
        feed = self.feeds.get(event["room_id"])
        if feed is not None:
            feed.accept(event["seq"], event["message"], event.get("stored_at"))

    def room_frame(self, event: dict[str, Any]) -> None:
        """Called for ``room.frame``: a frame that is not a stored message, to the room's sockets."""
        feed = self.feeds.get(event["room_id"])
        if feed is not None:
            feed.broadcast(event["frame"], event.get("exclude"), event.get("personal"))

    def rooms_frames(self, event: dict[str, Any]) -> None:
        """Called for ``rooms.frames``: frames for several rooms (a burst of departures), each to
        its room's sockets here, if this process follows the room."""
        for entry in event["frames"]:
            feed = self.feeds.get(entry["room_id"])
            if feed is not None:
                feed.broadcast(entry["frame"])

    def room_kick(self, event: dict[str, Any]) -> None:
        """Called for ``room.kick``: take the room away from one user's sockets."""
        feed = self.feeds.get(event["room_id"])
        if feed is not None:
            feed.kick(event["user_id"], event["detail"])

    def room_closed(self, event: dict[str, Any]) -> None:
        """Called for ``room.closed``: take the room away from every socket but its readers'."""
        feed = self.feeds.get(event["room_id"])
        if feed is not None:
            feed.close_to_all_but(set(event["readers"]), event["detail"])

    def user_notification(self, event: dict[str, Any]) -> None:
        """Called for ``user.notification``: a notification (and the unread count), to the user's sockets."""
        user = self.users.get(event["user_id"])
        if user is not None:  # else the user has no socket here (any more)
            user.notification(event["notification"], event.get("unread"))

    def user_unread(self, event: dict[str, Any]) -> None:
        """Called for ``user.unread``: the user's unread count, to the user's sockets."""
        user = self.users.get(event["user_id"])
        if user is not None:
            user.unread(event["unread"])

    def user_frame(self, event: dict[str, Any]) -> None:
        """Called for ``user.frame``: a frame for every socket of the user."""
        user = self.users.get(event["user_id"])
        if user is not None:
            user.frame(event["frame"])

    def token_revoked(self, event: dict[str, Any]) -> None:
        """Called for ``token.revoked``: forget the cached token, close the sockets it signed in."""
        token_forget(event["token_id"])
        self._end_sign_ins(event, TOKEN_REVOKED_DETAIL)

    def user_signed_out(self, event: dict[str, Any]) -> None:
        """Called for ``user.signed_out``: forget the tokens it ends, close the sockets it ends."""
        token_forget_signed_out(event)
        self._end_sign_ins(event, event["detail"])

    def _end_sign_ins(self, event: dict[str, Any], detail: str) -> None:
        for sign_in in list(self.sign_ins.get(event["user_id"], ())):
            if sign_in.ended_by(event):
                sign_in.end(detail)


# Each event type the hub follows and its handler, named as Channels names a consumer's handlers
# (``room.message`` → ``Hub.room_message``): looked up here once, not for every event.
HANDLERS: dict[str, Callable[[Hub, dict[str, Any]], None]] = {
    kind: getattr(Hub, get_handler_name({"type": kind}))
    for kind in (
        ROOM_MESSAGE,
        ROOM_FRAME,
        ROOMS_FRAMES,
        ROOM_KICK,
        ROOM_CLOSED,
        USER_NOTIFICATION,
        USER_UNREAD,
        USER_FRAME,
        TOKEN_REVOKED,
        USER_SIGNED_OUT,
    )
}


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
