"""What every Parley socket shares, whichever protocol it speaks: the socket's life from handshake
to close, its outbox, its rate limits, the rooms it follows through the process's hub, and the
close codes. ``parley.realtime.consumers`` builds protocol v1 and the article's protocol on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.db import InterfaceError, OperationalError

from parley.accounts.identity import Identity
from parley.conf import parley_settings
from parley.monitoring.metrics import FRAMES_IN, FRAMES_OUT, SLOW_READER_CLOSES, SOCKETS_OPEN
from parley.monitoring.outages import DATABASE
from parley.realtime.daphne_compat import transport_backlog
from parley.realtime.database import db_call
from parley.realtime.hub import (
    Format,
    Hub,
    Inbox,
    Listener,
    Outbox,
    SignIn,
    Subscription,
    get_hub,
)
from parley.realtime.ratelimit import Kind, RateLimited, SocketLimits
from parley.realtime.sends import group_commit
from parley.realtime.uvicorn_compat import release_handshake, transport_writer
from parley.rooms.access import RoomAccessError
from parley.rooms.group_commit import Send
from parley.rooms.models import Room
from parley.rooms.selectors import Replay, messages_replay_for_reader, room_for_reader
from parley.rooms.services import (
    NO_EXTRAS,
    PostExtras,
    PostResult,
    message_send,
)
from parley.wire import errors, frames

logger = logging.getLogger(__name__)

# A channel-layer alias that is not configured: the hub, not each socket, talks to the layer.
NO_CHANNEL_LAYER = "parley.no-per-socket-channel"

CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_RATE_LIMITED = 4429
CLOSE_TOO_LARGE = 1009

# A socket says it is typing in a room at most this often; the others show it for a few seconds.
TYPING_EVERY = 2.0

INTERNAL_ERROR_DETAIL = "Something went wrong on our side; try again."
UNAVAILABLE_DETAIL = "The database is unavailable right now; nothing was stored. Retry with the same client_id."


# What the database driver raises while the database cannot be reached.
DatabaseUnavailable = (OperationalError, InterfaceError)


def frame_too_large(text: str) -> bool:
    """Whether a text frame is over ``PARLEY_MAX_FRAME`` bytes (its UTF-8 length)."""
    limit: int = parley_settings.MAX_FRAME
    if len(text) * 4 <= limit:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


class SocketConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    """What both endpoints share: identity, the outbox, hub subscriptions and clean-up."""

    channel_layer_alias = NO_CHANNEL_LAYER
    # No socket joins a channel-layer group (the hub does, once per process): one empty tuple for
    # all, rather than the empty list Channels gives each consumer when this is None.
    groups: tuple[str, ...] = ()

    identity: Identity | None = None
    outbox: Outbox | None = None
    rate_limits: SocketLimits
    inbox: Inbox | None = None
    # How a signed-in user's socket signed in: the hub closes it when that sign-in ends.
    signed_in: SignIn | None = None
    # Tasks started from synchronous code (closing, leaving a room), made on first use.
    _background: set[asyncio.Task[Any]] | None = None
    hub: Hub
    subscriptions: dict[str, Subscription]
    # Rooms being joined (replay still being read): None, or why the room was taken away meanwhile.
    # Made by a join and dropped when no join is left: most sockets join once, then never again.
    _joining: dict[str, str | None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Called by the server with a new socket: hand each of its events to ``dispatch``, in
        order, until the consumer stops.

        Channels' own ``__call__`` awaits every ``receive`` in a task of its own, through
        ``asyncio.wait``, so that it can wait on the consumer's channel-layer channel at the same
        time. A Parley socket has no channel (the hub talks to the layer), and those tasks, futures
        and callbacks are most of what Channels holds for each idle socket: awaiting ``receive``
        directly handles the same events in the same order. A subclass that configures a channel
        layer gets Channels' own.
        """
        if get_channel_layer(self.channel_layer_alias) is not None:
            await super().__call__(scope, receive, send)
            return
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def connect(self) -> None:
        """Called when the handshake arrives.

        With a known identity, the socket first follows what it needs (the tutorial's room, the
        user's notifications) and only then completes the handshake: whatever is stored after
        the client sees the socket open reaches it. Without one, it is accepted only to say why,
        then closed.
        """
        self.subscriptions = {}
        identity = self.scope.get("parley.identity")
        if identity is None:
            await self.accept()
            detail = self.scope.get("parley.auth_error") or "Sign in first."
            await self.send(text_data=frames.Error(code="forbidden", detail=detail).to_json())
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        self.identity = identity
        self.rate_limits = SocketLimits(identity)
        SOCKETS_OPEN.inc()
        self.hub = get_hub()
        if identity.user_id is not None:
            self.signed_in = SignIn(
                user_id=identity.user_id,
                token_id=identity.token_id,
                session_key=identity.session_key,
                session_hash=identity.session_hash,
                end=self._signed_out,
            )
            await self.hub.sign_in(self.signed_in)
        # Frames for this socket wait in its outbox until the handshake is complete.
        outbox = self.outbox = Outbox(
            self.base_send,
            limit=parley_settings.SOCKET_BUFFER,
            on_overflow=self._too_slow,
            backlog=transport_backlog(self.base_send),
            paused=True,
        )
        refusal = await self.ready()
        await self.accept()
        # What the server kept of the handshake is not needed once it is done (uvicorn_compat).
        release_handshake(self.base_send)
        if refusal is not None:
            self.outbox = None
            await self.close(code=refusal)
            return
        # Only now are the connection's extensions known, which decide whether frames can go
        # straight to its transport.
        outbox.resume(writer=transport_writer(self.base_send))

    async def ready(self) -> int | None:
        """Called with a known identity before the handshake completes; a close code refuses the socket."""
        return None

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Route an ASGI event to its handler (``websocket.receive`` → ``websocket_receive``).

        Channels' own ``dispatch`` also closes stale database connections before every event,
        which costs a trip to a worker thread per frame, a large share of each handshake's and each
        frame's cost when profiled. Every database call here goes through
        ``db_call``, which closes stale connections around each call already.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """Called when the socket has closed: clean up and end the consumer.

        Channels' own handler also closes stale database connections here, a hop to the
        database thread for every socket that closes; as in ``dispatch``, every database call
        here does that already.
        """
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def disconnect(self, code: int) -> None:
        """Called when the socket closes: leave every room and stop writing."""
        for subscription in self.subscriptions.values():
            await self.hub.unsubscribe(subscription)
        self.subscriptions = {}
        if self.inbox is not None:
            await self.hub.detach(self.inbox)
            self.inbox = None
        if self.signed_in is not None:
            self.hub.sign_out(self.signed_in)
            self.signed_in = None
        if self.identity is not None:
            SOCKETS_OPEN.dec()
        if self.outbox is not None:
            self.outbox.close()

    async def screen(self, text_data: str | None) -> str | None:
        """The frame's text if it is worth parsing; otherwise answer or close, and return None."""
        if self.outbox is None:
            return None
        FRAMES_IN.inc()
        if text_data is None:
            self.push(
                frames.Error(code="invalid", detail="Binary frames are not supported; send JSON text frames.").to_json()
            )
            return None
        if frame_too_large(text_data):
            await self.close(code=CLOSE_TOO_LARGE)
            return None
        return text_data

    def push(self, text: str) -> None:
        """Queue a frame for this socket behind everything queued before it."""
        if self.outbox is not None:
            self.outbox.push(text)
            FRAMES_OUT.inc()

    async def follow(self, key: str, room: Room, fmt: Format, since: int | None = None) -> tuple[Subscription, Replay]:
        """Join ``room``'s stream and read what to replay; the caller sends it, then activates.

        Raises ``ParleyError`` (``too_large``) when the socket already follows
        ``PARLEY_MAX_SUBSCRIPTIONS`` other rooms: every subscription holds memory in the hub.
        """
        await self.unfollow(key)
        most: int = parley_settings.MAX_SUBSCRIPTIONS
        if len(self.subscriptions) >= most:
            raise errors.ParleyError(
                "too_large",
                f"A socket may follow at most {most} rooms and this one follows {len(self.subscriptions)}; "
                "unsubscribe from one first, or open another socket.",
            )
        identity = self.known_identity
        listener = Listener(
            key=identity.key, user_id=identity.user_id, removed=self._room_taken_away, person=person_of(identity)
        )
        subscription = await self.hub.subscribe(room.pk, self.outbox, fmt, listener, slug=room.slug)  # type: ignore[arg-type]
        # From here a ban, or the room turning private, finds the subscription (see
        # _room_taken_away); the replay's own access check covers what happened before.
        self.subscriptions[key] = subscription
        if self._joining is None:
            self._joining = {}
        self._joining[key] = None
        try:
            replay = await db_call(messages_replay_for_reader)(
                slug=room.slug, reader=identity, since=since, limit=parley_settings.REPLAY_LIMIT
            )
        except BaseException:
            self._stop_joining(key)
            if self.subscriptions.get(key) is subscription:
                del self.subscriptions[key]
                await self.hub.unsubscribe(subscription)
            raise
        return subscription, replay

    def joined(self, key: str) -> None:
        """Finish following ``key``, just before the subscribe is answered: from now on the room
        being taken away is told to the client on its own. Raises ``RoomAccessError`` when it was
        taken away while the socket was joining, so that the subscribe is answered with that."""
        detail = self._stop_joining(key)
        if detail is not None:
            raise RoomAccessError("forbidden", detail)

    def _stop_joining(self, key: str) -> str | None:
        joining = self._joining
        detail = None if joining is None else joining.pop(key, None)
        if not joining:
            self._joining = None
        return detail

    async def unfollow(self, key: str) -> None:
        """Leave a room's stream, if this socket follows it."""
        subscription = self.subscriptions.pop(key, None)
        if subscription is not None:
            await self.hub.unsubscribe(subscription)

    def _room_taken_away(self, room_id: int, detail: str) -> None:
        for key, subscription in list(self.subscriptions.items()):
            if subscription.feed.room_id == room_id:
                del self.subscriptions[key]
                self.in_background(self.hub.unsubscribe(subscription))
                if self._joining is not None and key in self._joining:
                    self._joining[key] = detail  # the subscribe in progress answers with it
                else:
                    self.room_taken_away(key, detail)

    def room_taken_away(self, key: str, detail: str) -> None:
        """Called when this socket may no longer follow the room it follows as ``key`` (a ban, a
        removal, or the room made private)."""

    def in_background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` from synchronous code, keeping the task referenced until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        if self._background is None:
            self._background = set()
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def post(self, slug: str, body: str, client_id: str, extras: PostExtras = NO_EXTRAS) -> PostResult:
        """Store a message from this connection's identity (a reply, with files, as ``extras`` says).

        A plain message is committed together with the others the process's sockets send
        meanwhile (``parley.realtime.sends``); a reply or a message with files, alone."""
        result: PostResult
        if extras == NO_EXTRAS:
            result = await group_commit().submit(
                Send(slug=slug, sender=self.known_identity, body=body, client_id=client_id)
            )
        else:
            result = await db_call(message_send)(
                slug=slug, sender=self.known_identity, body=body, client_id=client_id, extras=extras
            )
        DATABASE.recovered()
        return result

    async def readable_room(self, slug: str) -> Room:
        """The room this connection may read, or raise ``RoomAccessError``."""
        room: Room = await db_call(room_for_reader)(slug=slug, identity=self.known_identity)
        return room

    @property
    def known_identity(self) -> Identity:
        """The connection's identity; frames are handled only once it is known."""
        if self.identity is None:
            raise RuntimeError("a frame was handled on a connection without an identity")
        return self.identity

    def log_context(self, **more: object) -> dict[str, object]:
        """What a log line about this socket carries as structured fields (``extra=``)."""
        identity = self.identity
        context: dict[str, object] = {
            "user_id": identity.user_id if identity is not None else None,
            "guest_id": identity.guest_id if identity is not None and identity.is_guest else None,
            "rooms": sorted(self.subscriptions),
        }
        return {**context, **more}

    async def throttle(self, kind: Kind) -> None:
        """Raise ``RateLimited`` if this socket or its identity is over its ``kind`` limit; a socket
        that keeps going over is told why and closed with 4429, and reads nothing more."""
        decision = await self.rate_limits.check(kind)
        if decision.allowed:
            return
        if self.rate_limits.abusive:
            detail = "Too many requests over the rate limit; closing. Wait before reconnecting."
            self.push(frames.error_frame(RateLimited(decision, detail)).to_json())
            context = self.log_context(close_code=CLOSE_RATE_LIMITED)
            logger.warning("closing a socket that kept going over its rate limits", extra=context)
            self.outbox = None
            await self.close(code=CLOSE_RATE_LIMITED)
        raise RateLimited(decision)

    def _signed_out(self, detail: str) -> None:
        if self.signed_in is not None:  # not twice, when two endings arrive together
            self.hub.sign_out(self.signed_in)
            self.signed_in = None
            self.signed_out(detail)

    def signed_out(self, detail: str) -> None:
        """Called when this socket's sign-in ended (its token revoked, its session logged out, a
        new password, the account deactivated or deleted): close with 4401, and from now on
        handle no frame of the client's, even before the close is done."""
        self.outbox = None
        self.in_background(self.close(code=CLOSE_NOT_AUTHENTICATED))

    def _too_slow(self) -> None:
        SLOW_READER_CLOSES.inc()
        logger.warning(
            "closing a socket that stopped reading: over %d bytes queued",
            parley_settings.SOCKET_BUFFER,
            extra=self.log_context(close_code=CLOSE_TOO_SLOW),
        )
        self.outbox = None
        self.in_background(self.close(code=CLOSE_TOO_SLOW))


def person_of(identity: Identity) -> dict[str, Any]:
    """How others see the person behind a connection: ``{id, name, guest}``, as a message's author."""
    return {"id": identity.user_id, "name": identity.display_name, "guest": identity.is_guest}
