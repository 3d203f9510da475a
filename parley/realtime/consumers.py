"""WebSocket consumers: protocol v1 at ``/ws/`` and the article's protocol at ``/ws/chat/<room>/``.

Consumers are thin: they validate a frame, call a selector or a service, and queue the reply on
the socket's outbox. Live messages reach them through the process's hub, never through a channel
of their own, so they opt out of Channels' per-consumer channel.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import InterfaceError, OperationalError

from parley.accounts.identity import Identity
from parley.conf import parley_settings
from parley.events.publish import publish_room_frame
from parley.monitoring.metrics import FRAMES_IN, FRAMES_OUT, SLOW_READER_CLOSES, SOCKETS_OPEN
from parley.monitoring.outages import DATABASE
from parley.notifications.selectors import notifications_since, notifications_unread_count
from parley.notifications.services import notifications_mark_read
from parley.readstate.services import read_marker_advance
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
    encode_json,
    get_hub,
    message_frame_json,
)
from parley.realtime.ratelimit import FRAME_KINDS, Kind, RateLimited, SocketLimits
from parley.realtime.uvicorn_compat import transport_writer
from parley.rooms.access import RoomAccessError
from parley.rooms.models import Room
from parley.rooms.selectors import Replay, messages_before, messages_replay_for_reader, room_for_reader
from parley.rooms.services import (
    MessageChange,
    PostResult,
    message_delete,
    message_edit,
    message_send,
    message_updated_frame,
    reaction_set,
)
from parley.wire import errors, frames
from parley.wire.text import check_json_depth, validate_body

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
    _joining: dict[str, str | None]

    async def connect(self) -> None:
        """Called when the handshake arrives.

        With a known identity, the socket first follows what it needs (the tutorial's room, the
        user's notifications) and only then completes the handshake: whatever is stored after
        the client sees the socket open reaches it. Without one, it is accepted only to say why,
        then closed.
        """
        self.subscriptions = {}
        self._joining = {}
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
        self._joining[key] = None
        try:
            replay = await db_call(messages_replay_for_reader)(
                slug=room.slug, reader=identity, since=since, limit=parley_settings.REPLAY_LIMIT
            )
        except BaseException:
            self._joining.pop(key, None)
            if self.subscriptions.get(key) is subscription:
                del self.subscriptions[key]
                await self.hub.unsubscribe(subscription)
            raise
        return subscription, replay

    def joined(self, key: str) -> None:
        """Finish following ``key``, just before the subscribe is answered: from now on the room
        being taken away is told to the client on its own. Raises ``RoomAccessError`` when it was
        taken away while the socket was joining, so that the subscribe is answered with that."""
        detail = self._joining.pop(key, None)
        if detail is not None:
            raise RoomAccessError("forbidden", detail)

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
                if key in self._joining:
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

    async def post(self, slug: str, body: str, client_id: str) -> PostResult:
        """Store a message from this connection's identity."""
        result: PostResult = await db_call(message_send)(
            slug=slug, sender=self.known_identity, body=body, client_id=client_id
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


class ParleyConsumer(SocketConsumer):
    """Protocol v1 (docs/protocol.md): subscribe, unsubscribe, send, history and ping as JSON frames,
    and the signed-in user's notifications, live without asking."""

    # When this socket last said it was typing, per room (made on first use).
    _typing_sent: dict[str, float] | None = None

    async def ready(self) -> int | None:
        """A signed-in user's socket receives their notifications from the start."""
        identity = self.known_identity
        if identity.user_id is None or self.outbox is None:
            return None
        self.inbox = Inbox(identity.user_id, self.outbox)
        await self.hub.attach(self.inbox)
        return None

    def room_taken_away(self, key: str, detail: str) -> None:
        """Say so: a ``forbidden`` error, then ``unsubscribed``."""
        self.push(frames.Error(code="forbidden", detail=detail).to_json())
        self.push(frames.Unsubscribed(room=key).to_json())

    def signed_out(self, detail: str) -> None:
        """Say why in a ``forbidden`` error, then close as ``SocketConsumer.signed_out`` does."""
        self.push(frames.Error(code="forbidden", detail=detail).to_json())
        super().signed_out(detail)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each frame from the client; every frame gets an answer."""
        text = await self.screen(text_data)
        if text is None:
            return
        ref: str | int | None = None
        try:
            frame = frames.parse_client_frame(text)
            ref = frame.ref
            if frame.type in FRAME_KINDS:
                await self.throttle(FRAME_KINDS[frame.type])
            await FRAME_HANDLERS[frame.type](self, frame)
        except errors.ParleyError as error:  # every refusal, from the frame's parsing to the services
            self.push(frames.error_frame(error, ref).to_json())
        except DatabaseUnavailable:
            DATABASE.failed()
            self.push(frames.Error(ref=ref, code="unavailable", detail=UNAVAILABLE_DETAIL).to_json())
        except Exception:
            logger.exception("could not handle a frame (ref %r)", ref, extra=self.log_context(ref=ref))
            self.push(frames.Error(ref=ref, code="internal", detail=INTERNAL_ERROR_DETAIL).to_json())

    async def on_subscribe(self, frame: frames.Subscribe) -> None:
        room = await self.readable_room(frame.room)
        subscription, replay = await self.follow(frame.room, room, "v1", since=frame.since)
        # Who is here, read before going live: arrivals and departures after it follow as diffs.
        online = await self.hub.present(room.pk)
        self.joined(frame.room)
        for data in replay.messages:
            self.push(message_frame_json(data))
        subscribed = frames.Subscribed(ref=frame.ref, room=frame.room, head=replay.head, truncated=replay.truncated)
        self.push(subscribed.to_json())
        self.push(encode_json({"type": "presence", "room": frame.room, "online": online}))
        subscription.activate(replay.head)

    async def on_unsubscribe(self, frame: frames.Unsubscribe) -> None:
        await self.unfollow(frame.room)
        self.push(frames.Unsubscribed(ref=frame.ref, room=frame.room).to_json())

    async def on_send(self, frame: frames.Send) -> None:
        message = (await self.post(frame.room, frame.body, frame.client_id)).message
        ack = frames.Ack(ref=frame.ref, room=frame.room, client_id=message.client_id, seq=message.seq, id=message.pk)
        self.push(ack.to_json())

    async def on_history(self, frame: frames.History) -> None:
        room = await self.readable_room(frame.room)
        messages = await db_call(messages_before)(
            room=room, before=frame.before, limit=frame.limit, reader=self.known_identity
        )
        page: dict[str, Any] = {"type": "history", "room": frame.room, "messages": messages}
        if frame.ref is not None:
            page["ref"] = frame.ref
        self.push(encode_json(page))

    async def on_typing(self, frame: frames.Typing) -> None:
        """Tell the room's other sockets this person is typing: at most once per ``TYPING_EVERY``
        seconds per room and socket (more are dropped quietly), and no reply."""
        subscription = self.subscriptions.get(frame.room)
        if subscription is None:
            raise errors.ParleyError("invalid", f"Subscribe to {frame.room!r} before saying you are typing in it.")
        now = time.monotonic()
        if self._typing_sent is None:
            self._typing_sent = {}
        if now - self._typing_sent.get(frame.room, -TYPING_EVERY) < TYPING_EVERY:
            return
        self._typing_sent[frame.room] = now
        identity = self.known_identity
        notice = {"type": "typing", "room": frame.room, "user": person_of(identity)}
        publish_room_frame(subscription.feed.room_id, notice, exclude=identity.key)

    async def on_ping(self, frame: frames.Ping) -> None:
        self.push(frames.Pong(ref=frame.ref).to_json())

    async def on_notifications(self, frame: frames.Notifications) -> None:
        inbox = self._signed_in_inbox()
        inbox.hold()
        try:
            replay, truncated = await db_call(notifications_since)(
                user_id=inbox.user_id, since=frame.since, limit=parley_settings.REPLAY_LIMIT
            )
            unread = await db_call(notifications_unread_count)(user_id=inbox.user_id)
            for data in replay:
                inbox.replayed(data["id"], encode_json({"type": "notification", **data}))
            self.push(frames.NotificationsReplayed(ref=frame.ref, unread=unread, truncated=truncated).to_json())
        finally:
            inbox.release()

    async def on_notification_read(self, frame: frames.NotificationRead) -> None:
        inbox = self._signed_in_inbox()
        ids = [] if frame.id is None else [frame.id]
        count = await db_call(notifications_mark_read)(user_id=inbox.user_id, ids=ids, everything=frame.all)
        self.push(frames.NotificationsUnread(ref=frame.ref, count=count).to_json())

    async def on_edit(self, frame: frames.Edit) -> None:
        room = await self.readable_room(frame.room)
        change = await db_call(message_edit)(room=room, editor=self.known_identity, seq=frame.seq, body=frame.body)
        self.push(_message_updated_reply(change, frame.ref))

    async def on_delete(self, frame: frames.Delete) -> None:
        room = await self.readable_room(frame.room)
        change = await db_call(message_delete)(room=room, actor=self.known_identity, seq=frame.seq)
        self.push(_message_updated_reply(change, frame.ref))

    async def on_react(self, frame: frames.React) -> None:
        room = await self.readable_room(frame.room)
        identity = self.known_identity
        state = await db_call(reaction_set)(room=room, user=identity, seq=frame.seq, emoji=frame.emoji, on=frame.on)
        reply = frames.Reactions(
            ref=frame.ref, room=frame.room, seq=frame.seq, counts=state.counts, mine=state.mine(identity.user_id)
        )
        self.push(reply.to_json())

    async def on_read(self, frame: frames.Read) -> None:
        user = self.known_identity.user
        if user is None:
            raise errors.ParleyError("forbidden", "Guests have no read markers; sign in to keep your place in rooms.")
        room = await self.readable_room(frame.room)
        state = await db_call(read_marker_advance)(user=user, room=room, seq=frame.seq)
        reply = frames.Unread(ref=frame.ref, room=frame.room, count=state.count, last_read=state.last_read)
        self.push(reply.to_json())

    def _signed_in_inbox(self) -> Inbox:
        if self.inbox is None:
            raise errors.ParleyError("forbidden", "Only signed-in users have notifications; guests have none.")
        return self.inbox


# Each client frame type and its handler, ``on_<type>``, from the protocol's own list of client
# frames: a frame type without a handler fails at import, not when a client first sends it.
FRAME_HANDLERS: dict[str, Callable[[ParleyConsumer, Any], Awaitable[None]]] = {
    frame_type: getattr(ParleyConsumer, f"on_{frame_type}") for frame_type in frames.CLIENT_FRAME_TYPES
}


def _message_updated_reply(change: MessageChange, ref: str | int | None) -> str:
    fields = {key: value for key, value in message_updated_frame(change.message).items() if key != "type"}
    return frames.MessageUpdated(ref=ref, **fields).to_json()


class TutorialChatConsumer(SocketConsumer):
    """The article's protocol: ``{"message": s}`` in and out, for one room named in the URL.

    It follows the same permissions as ``/ws/`` and stores what it receives, so its messages reach
    protocol v1 subscribers with their seq. A room that cannot be read closes the socket with
    4404 (no such room, or private) or 4403 (guests may not use it); the article's page has no
    way to show an error frame. A message over the send limit is dropped with a ``rate_limited``
    error frame the page ignores, rather than costing the page (which never reconnects) its
    socket; one that keeps going over is closed with 4429 like any socket.
    """

    async def ready(self) -> int | None:
        """Follow the room in the URL, or refuse the socket with the close code saying why."""
        slug = self.scope["url_route"]["kwargs"]["room"]
        try:
            room = await self.readable_room(slug)
            self.slug = slug
            subscription, replay = await self.follow(slug, room, "tutorial")
            self.joined(slug)
        except RoomAccessError as error:
            return CLOSE_NOT_FOUND if error.code == "not_found" else CLOSE_FORBIDDEN
        subscription.activate(replay.head)
        return None

    def room_taken_away(self, key: str, detail: str) -> None:
        """The page has no way to show why: close it as for a room it may not use."""
        self.outbox = None
        self.in_background(self.close(code=CLOSE_FORBIDDEN))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each ``{"message": s}`` from the page; each is stored, then broadcast."""
        text = await self.screen(text_data)
        if text is None:
            return
        try:
            body = _tutorial_body(text)
            await self.throttle("send")
            await self.post(self.slug, body, client_id=uuid.uuid4().hex)
        except errors.ParleyError as error:  # every refusal, from the frame's parsing to the services
            self.push(frames.error_frame(error).to_json())
        except DatabaseUnavailable:
            DATABASE.failed()
            self.push(_tutorial_error("unavailable", UNAVAILABLE_DETAIL))
        except Exception:
            logger.exception("could not store a tutorial-protocol message", extra=self.log_context(room=self.slug))
            self.push(_tutorial_error("internal", INTERNAL_ERROR_DETAIL))


def _tutorial_error(code: errors.ErrorCode, detail: str) -> str:
    return frames.Error(code=code, detail=detail).to_json()


def _tutorial_body(text: str) -> str:
    """The body of a ``{"message": s}`` frame, checked like a v1 ``send`` body."""
    check_json_depth(text)
    try:
        data = json.loads(text)
    except ValueError:
        raise errors.ParleyError("invalid", 'The frame is not valid JSON; send {"message": "…"}.') from None
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        raise errors.ParleyError("invalid", 'Send {"message": "…"} with the message as a string.')
    return validate_body(data["message"])


def person_of(identity: Identity) -> dict[str, Any]:
    """How others see the person behind a connection: ``{id, name, guest}``, as a message's author."""
    return {"id": identity.user_id, "name": identity.display_name, "guest": identity.is_guest}
