"""WebSocket consumers: protocol v1 at ``/ws/`` and the article's protocol at ``/ws/chat/<room>/``.

Consumers are thin: they validate a frame, call a selector or a service, and queue the reply on
the socket's outbox. Live messages reach them through the process's hub, never through a channel
of their own, so they opt out of Channels' per-consumer channel.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError

from parley.accounts.identity import Identity
from parley.realtime import protocol
from parley.realtime.daphne_compat import transport_backlog
from parley.realtime.hub import Format, Hub, Outbox, Subscription, encode_json, get_hub, message_frame_json
from parley.realtime.metrics import FRAMES_IN, FRAMES_OUT, SLOW_READER_CLOSES, SOCKETS_OPEN
from parley.realtime.outages import DATABASE
from parley.rooms.access import RoomAccessError
from parley.rooms.models import Room
from parley.rooms.selectors import Replay, messages_before, messages_replay, room_for_reader
from parley.rooms.services import PostResult, message_send

logger = logging.getLogger(__name__)

# A channel-layer alias that is not configured: the hub, not each socket, talks to the layer.
NO_CHANNEL_LAYER = "parley.no-per-socket-channel"

CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_TOO_LARGE = 1009

INTERNAL_ERROR_DETAIL = "Something went wrong on our side; try again."
UNAVAILABLE_DETAIL = "The database is unavailable right now; nothing was stored. Retry with the same client_id."


# What the database driver raises while the database cannot be reached.
DatabaseUnavailable = (OperationalError, InterfaceError)


def frame_too_large(text: str) -> bool:
    """Whether a text frame is over ``PARLEY_MAX_FRAME`` bytes (its UTF-8 length)."""
    limit: int = settings.PARLEY_MAX_FRAME
    if len(text) * 4 <= limit:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


class SocketConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    """What both endpoints share: identity, the outbox, hub subscriptions and clean-up."""

    channel_layer_alias = NO_CHANNEL_LAYER

    identity: Identity | None = None
    outbox: Outbox | None = None
    hub: Hub
    subscriptions: dict[str, Subscription]

    async def connect(self) -> None:
        """Called when the handshake arrives: accept it, then refuse in-band if nobody is known."""
        self.subscriptions = {}
        await self.accept()
        identity = self.scope.get("parley.identity")
        if identity is None:
            detail = self.scope.get("parley.auth_error") or "Sign in first."
            await self.send(text_data=protocol.Error(code="forbidden", detail=detail).to_json())
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        self.identity = identity
        SOCKETS_OPEN.inc()
        self.hub = get_hub()
        self.outbox = Outbox(
            self.base_send,
            limit=settings.PARLEY_SOCKET_BUFFER,
            on_overflow=self._too_slow,
            backlog=transport_backlog(self.base_send),
        )
        await self.ready()

    async def ready(self) -> None:
        """Called once the connection is accepted with a known identity."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Route an ASGI event to its handler (``websocket.receive`` → ``websocket_receive``).

        Channels' own ``dispatch`` also closes stale database connections before every event,
        which costs a trip to a worker thread per frame: a third of the handshake time and much
        of the per-frame cost in py-spy. Every database call here goes through
        ``database_sync_to_async``, which closes stale connections around each call already.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        """Called when the socket closes: leave every room and stop writing."""
        for subscription in self.subscriptions.values():
            await self.hub.unsubscribe(subscription)
        self.subscriptions = {}
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
                protocol.Error(
                    code="invalid", detail="Binary frames are not supported; send JSON text frames."
                ).to_json()
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
        """Join ``room``'s stream and read what to replay; the caller sends it, then activates."""
        await self.unfollow(key)
        subscription = await self.hub.subscribe(room.pk, self.outbox, fmt)  # type: ignore[arg-type]
        try:
            replay = await database_sync_to_async(messages_replay)(
                room=room, since=since, limit=settings.PARLEY_REPLAY_LIMIT
            )
        except BaseException:
            await self.hub.unsubscribe(subscription)
            raise
        self.subscriptions[key] = subscription
        return subscription, replay

    async def unfollow(self, key: str) -> None:
        """Leave a room's stream, if this socket follows it."""
        subscription = self.subscriptions.pop(key, None)
        if subscription is not None:
            await self.hub.unsubscribe(subscription)

    async def post(self, slug: str, body: str, client_id: str) -> PostResult:
        """Store a message from this connection's identity."""
        result: PostResult = await database_sync_to_async(message_send)(
            slug=slug, sender=self.identity, body=body, client_id=client_id
        )
        DATABASE.recovered()
        return result

    async def readable_room(self, slug: str) -> Room:
        """The room this connection may read, or raise ``RoomAccessError``."""
        room: Room = await database_sync_to_async(room_for_reader)(slug=slug, identity=self.identity)
        return room

    def _too_slow(self) -> None:
        SLOW_READER_CLOSES.inc()
        logger.warning("closing a socket that stopped reading: over %d bytes queued", settings.PARLEY_SOCKET_BUFFER)
        self.outbox = None
        self._closing = asyncio.get_running_loop().create_task(self.close(code=CLOSE_TOO_SLOW))


class ParleyConsumer(SocketConsumer):
    """Protocol v1 (DESIGN.md): subscribe, unsubscribe, send, history and ping as JSON frames."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each frame from the client; every frame gets an answer."""
        text = await self.screen(text_data)
        if text is None:
            return
        ref: str | int | None = None
        try:
            frame = protocol.parse_client_frame(text)
            ref = frame.ref
            await self.handlers[frame.type](self, frame)
        except protocol.FrameError as error:
            self.push(error.frame().to_json())
        except RoomAccessError as error:
            self.push(protocol.Error(ref=ref, code=error.code, detail=error.detail).to_json())
        except DatabaseUnavailable:
            DATABASE.failed()
            self.push(protocol.Error(ref=ref, code="unavailable", detail=UNAVAILABLE_DETAIL).to_json())
        except Exception:
            logger.exception("could not handle a frame (ref %r)", ref)
            self.push(protocol.Error(ref=ref, code="internal", detail=INTERNAL_ERROR_DETAIL).to_json())

    async def on_subscribe(self, frame: protocol.Subscribe) -> None:
        room = await self.readable_room(frame.room)
        subscription, replay = await self.follow(frame.room, room, "v1", since=frame.since)
        for data in replay.messages:
            self.push(message_frame_json(data))
        subscribed = protocol.Subscribed(ref=frame.ref, room=frame.room, head=replay.head, truncated=replay.truncated)
        self.push(subscribed.to_json())
        subscription.activate(replay.head)

    async def on_unsubscribe(self, frame: protocol.Unsubscribe) -> None:
        await self.unfollow(frame.room)
        self.push(protocol.Unsubscribed(ref=frame.ref, room=frame.room).to_json())

    async def on_send(self, frame: protocol.Send) -> None:
        message = (await self.post(frame.room, frame.body, frame.client_id)).message
        ack = protocol.Ack(ref=frame.ref, room=frame.room, client_id=message.client_id, seq=message.seq, id=message.pk)
        self.push(ack.to_json())

    async def on_history(self, frame: protocol.History) -> None:
        room = await self.readable_room(frame.room)
        messages = await database_sync_to_async(messages_before)(room=room, before=frame.before, limit=frame.limit)
        page: dict[str, Any] = {"type": "history", "room": frame.room, "messages": messages}
        if frame.ref is not None:
            page["ref"] = frame.ref
        self.push(encode_json(page))

    async def on_ping(self, frame: protocol.Ping) -> None:
        self.push(protocol.Pong(ref=frame.ref).to_json())

    handlers: dict[str, Callable[[ParleyConsumer, Any], Awaitable[None]]] = {
        "subscribe": on_subscribe,
        "unsubscribe": on_unsubscribe,
        "send": on_send,
        "history": on_history,
        "ping": on_ping,
    }


class TutorialChatConsumer(SocketConsumer):
    """The article's protocol: ``{"message": s}`` in and out, for one room named in the URL.

    It follows the same permissions as ``/ws/`` and stores what it receives, so its messages reach
    protocol v1 subscribers with their seq. A room that cannot be read closes the socket with
    4404 (no such room, or private) or 4403 (guests may not use it); the article's page has no
    way to show an error frame.
    """

    async def ready(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["room"]
        try:
            room = await self.readable_room(slug)
        except RoomAccessError as error:
            self.outbox = None
            await self.close(code=CLOSE_NOT_FOUND if error.code == "not_found" else CLOSE_FORBIDDEN)
            return
        self.slug = slug
        subscription, replay = await self.follow(slug, room, "tutorial")
        subscription.activate(replay.head)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each ``{"message": s}`` from the page; each is stored, then broadcast."""
        text = await self.screen(text_data)
        if text is None:
            return
        try:
            body = _tutorial_body(text)
            await self.post(self.slug, body, client_id=uuid.uuid4().hex)
        except protocol.FrameError as error:
            self.push(error.frame().to_json())
        except RoomAccessError as error:
            self.push(_tutorial_error(error.code, error.detail))
        except DatabaseUnavailable:
            DATABASE.failed()
            self.push(_tutorial_error("unavailable", UNAVAILABLE_DETAIL))
        except Exception:
            logger.exception("could not store a tutorial-protocol message")
            self.push(_tutorial_error("internal", INTERNAL_ERROR_DETAIL))


def _tutorial_error(code: protocol.ErrorCode, detail: str) -> str:
    return protocol.Error(code=code, detail=detail).to_json()


def _tutorial_body(text: str) -> str:
    """The body of a ``{"message": s}`` frame, checked like a v1 ``send`` body."""
    try:
        data = json.loads(text)
    except ValueError:
        raise protocol.FrameError("invalid", 'The frame is not valid JSON; send {"message": "…"}.') from None
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        raise protocol.FrameError("invalid", 'Send {"message": "…"} with the message as a string.')
    return protocol.validate_body(data["message"])
