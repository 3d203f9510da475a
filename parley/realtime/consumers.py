"""WebSocket consumers: protocol v1 at ``/ws/`` and the article's protocol at ``/ws/chat/<room>/``.

Consumers are thin: they validate a frame, call a selector or a service, and queue the reply on
the socket's outbox. Live messages reach them through the process's hub, never through a channel
of their own, so they opt out of Channels' per-consumer channel.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from parley.conf import parley_settings
from parley.events.publish import publish_room_frame
from parley.monitoring.outages import DATABASE
from parley.notifications.selectors import notifications_since, notifications_unread_count
from parley.notifications.services import notifications_mark_read
from parley.readstate.services import read_marker_advance
from parley.realtime.database import db_call
from parley.realtime.hub import (
    Inbox,
    encode_json,
    message_frame_json,
)
from parley.realtime.ratelimit import FRAME_KINDS
from parley.realtime.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    INTERNAL_ERROR_DETAIL,
    TYPING_EVERY,
    UNAVAILABLE_DETAIL,
    DatabaseUnavailable,
    SocketConsumer,
    person_of,
)
from parley.rooms.access import RoomAccessError
from parley.rooms.selectors import messages_before, room_named, thread_page
from parley.rooms.services import (
    MessageChange,
    PostExtras,
    message_delete,
    message_edit,
    reaction_set,
)
from parley.wire import errors, frames
from parley.wire.serializers import message_updated_frame
from parley.wire.text import check_json_depth, validate_body

logger = logging.getLogger(__name__)


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
        extras = PostExtras(reply_to=frame.reply_to, attachments=tuple(frame.attachments))
        message = (await self.post(frame.room, frame.body, frame.client_id, extras)).message
        ack = frames.Ack(ref=frame.ref, room=frame.room, client_id=message.client_id, seq=message.seq, id=message.pk)
        self.push(ack.to_json())

    async def on_history(self, frame: frames.History) -> None:
        room = await self.readable_room(frame.room)
        page: dict[str, Any] = {"type": "history", "room": frame.room, "thread": frame.thread}
        if frame.thread is None:
            page["messages"] = await db_call(messages_before)(
                room=room, before=frame.before, limit=frame.limit, reader=self.known_identity
            )
        else:
            page["messages"] = await db_call(thread_page)(
                room=room, seq=frame.thread, before=frame.before, limit=frame.limit, reader=self.known_identity
            )
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
        room = await db_call(room_named)(slug=frame.room)
        change = await db_call(message_edit)(room=room, editor=self.known_identity, seq=frame.seq, body=frame.body)
        self.push(_message_updated_reply(change, frame.ref))

    async def on_delete(self, frame: frames.Delete) -> None:
        room = await db_call(room_named)(slug=frame.room)
        change = await db_call(message_delete)(room=room, actor=self.known_identity, seq=frame.seq)
        self.push(_message_updated_reply(change, frame.ref))

    async def on_react(self, frame: frames.React) -> None:
        room = await db_call(room_named)(slug=frame.room)
        identity = self.known_identity
        state = await db_call(reaction_set)(room=room, user=identity, seq=frame.seq, emoji=frame.emoji, on=frame.on)
        self.push(state.frame(identity.user_id, frame.ref).to_json())

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
    return message_updated_frame(change.message, ref).to_json()


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
