"""The one place real-time events leave the domain (Zulip's ``send_event`` idea).

Services call these functions, and only after their transaction commits, so nobody is ever told
about data that was rolled back. Events go to a channel-layer group; each server process's hub is
a member of the groups its sockets need and fans the event out locally.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, channel_layers, get_channel_layer
from django.db import transaction
from django.utils.module_loading import import_string

from parley.events.handoff import LoopHandoff
from parley.events.pipelining import BATCH_MOST, Outgoing, Pipeline
from parley.monitoring.metrics import MESSAGES_STORED
from parley.wire.serializers import message_data

if TYPE_CHECKING:
    from parley.rooms.models import Message

ROOM_MESSAGE = "room.message"
USER_NOTIFICATION = "user.notification"
USER_UNREAD = "user.unread"
ROOM_FRAME = "room.frame"
# Frames for many rooms in one event, to every hub (ROOMS_GROUP): a burst of presence changes (a
# thousand sockets closing) is one event for each other process to read rather than one a room.
ROOMS_FRAMES = "rooms.frames"
ROOM_KICK = "room.kick"
# Its own type, not room.kick with a list: a process of the previous version ignores unknown types.
ROOM_CLOSED = "room.closed"
USER_FRAME = "user.frame"
TOKEN_REVOKED = "token.revoked"
USER_SIGNED_OUT = "user.signed_out"
# Every hub joins this group: any process may hold a socket or a cached lookup of any token, so
# revocations and sign-outs (log-out, new password, deactivation, deletion) go to all of them.
TOKENS_GROUP = "parley.tokens"
# Every hub joins this group too, for ROOMS_FRAMES.
ROOMS_GROUP = "parley.rooms"


def room_group(room_id: int) -> str:
    """The channel-layer group every hub with a subscriber in this room joins."""
    return f"parley.room.{room_id}"


def user_group(user_id: int) -> str:
    """The channel-layer group every hub with a socket of this user joins."""
    return f"parley.user.{user_id}"


class Publisher:
    """Sends a server process's events to the layer from its event loop, in batches, in order.

    Events come from any thread without waiting (``LoopHandoff``). What queues up while one batch
    is on its way to the layer goes as the next (``parley.events.pipelining``): each group's
    events keep their order, so the hubs rarely see one room's seqs out of order.
    """

    def __init__(self, layer: BaseChannelLayer) -> None:
        self.pipeline = Pipeline(layer)
        self.handoff: LoopHandoff[Outgoing] = LoopHandoff(self._send_forever)

    async def _send_forever(self, next_event: Callable[[], Awaitable[Outgoing]]) -> None:
        while True:
            batch = [await next_event()]
            batch += self.handoff.ready(BATCH_MOST - 1)
            await self.pipeline.send(batch)


_publisher: Publisher | None = None


def start_publisher(layer: BaseChannelLayer) -> None:
    """Publish through this event loop from now on (the hub calls this when it starts)."""
    global _publisher
    _publisher = Publisher(layer)


def publish(group: str, event: dict[str, Any], *, alone: bool = False) -> None:
    """Send ``event`` to every hub in ``group``. Call it only after commit (see ``*_on_commit``).

    Inside a server process the event is handed to the process's ``Publisher``; elsewhere (a
    management command, a worker without sockets) it is sent before returning. A failure to
    publish is logged, not raised: the data is already stored, and subscribers that missed the
    event get it through replay or the hubs' gap repair. ``alone``: sent after every event
    published before it and before every later one, whatever their groups (``Outgoing``).
    """
    outgoing = Outgoing(group, event, alone)
    publisher = _publisher
    if publisher is not None and publisher.handoff.usable():
        publisher.handoff.submit(outgoing)
        return
    if DEFAULT_CHANNEL_LAYER in channel_layers.configs:
        async_to_sync(_send_outside_a_server)(outgoing)


async def _send_outside_a_server(outgoing: Outgoing) -> None:
    """Send ``outgoing`` from a process without a publisher (a management command, a worker).

    Each call runs on an event loop of its own (``async_to_sync``), and channels_rabbitmq's layer
    is bound to the loop that makes it and refuses to be made without one (``manage.py
    issuetoken`` failed on ``amqp://``): so the layer is made here, for this call, and closed
    after. The in-memory layer is the exception: it lives in this process, whose other parts
    (tests, a hub on another thread) read the one instance ``get_channel_layer`` returns."""
    if issubclass(import_string(channel_layers.configs[DEFAULT_CHANNEL_LAYER]["BACKEND"]), InMemoryChannelLayer):
        await Pipeline(get_channel_layer()).send([outgoing])
        return
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    try:
        await Pipeline(layer).send([outgoing])
    finally:
        close = getattr(layer, "close", None) or getattr(layer, "close_pools", None)
        if close is not None:
            await close()


def publish_message_on_commit(message: Message, *, attachments: list[dict[str, Any]] | None = None) -> None:
    """Publish a newly stored message to its room once the current transaction commits, with
    its ``attachments`` in their wire shape, if it has any."""
    event = {
        "type": ROOM_MESSAGE,
        "room_id": message.room_id,
        "seq": message.seq,
        "message": message_data(message, attachments=attachments),
        "stored_at": time.time(),
    }
    transaction.on_commit(partial(_published_message, room_group(message.room_id), event))


def _published_message(group: str, event: dict[str, Any]) -> None:
    MESSAGES_STORED.inc()
    publish(group, event)


def publish_notification_on_commit(*, user_id: int, notification: dict[str, Any], unread: int) -> None:
    """Push a newly stored notification (in wire shape, ``NotificationData``) to its recipient
    ``user_id``, with their new unread count, after commit."""
    event = {"type": USER_NOTIFICATION, "user_id": user_id, "notification": notification, "unread": unread}
    transaction.on_commit(partial(publish, user_group(user_id), event))


def publish_unread_on_commit(*, user_id: int, unread: int) -> None:
    """Tell every socket of a user their unread notification count after commit."""
    event = {"type": USER_UNREAD, "user_id": user_id, "unread": unread}
    transaction.on_commit(partial(publish, user_group(user_id), event))


def publish_token_revoked_on_commit(*, user_id: int, token_id: int) -> None:
    """After commit, tell every hub to close the token's sockets and forget its cached lookup."""
    event = {"type": TOKEN_REVOKED, "user_id": user_id, "token_id": token_id}
    transaction.on_commit(partial(publish, TOKENS_GROUP, event))


def publish_signed_out_on_commit(
    *, user_id: int, detail: str, session_key: str | None = None, session_hash: str | None = None
) -> None:
    """After commit, close (4401, saying ``detail``) the sockets of a user whose sign-in ended, on
    every process: with ``session_key``, those of that session (a log-out); with ``session_hash``,
    the session sockets whose session's auth hash is another (a new password); with neither,
    every socket, token ones included, and the user's cached token lookups are forgotten (the
    account was deactivated or deleted)."""
    event = {
        "type": USER_SIGNED_OUT,
        "user_id": user_id,
        "detail": detail,
        "session_key": session_key,
        "session_hash": session_hash,
    }
    transaction.on_commit(partial(publish, TOKENS_GROUP, event))


def publish_room_frame(
    room_id: int,
    frame: dict[str, Any],
    *,
    exclude: str | None = None,
    personal: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Send a frame that is not a stored message (typing, presence, an edit) to every protocol v1
    socket following the room, except those of the identity whose ``Identity.key`` is ``exclude``.
    ``personal`` maps user ids (as strings) to fields that replace the frame's for that user's
    sockets. A frame lost with the layer is not repaired: clients re-read state on resubscribe."""
    event = {"type": ROOM_FRAME, "room_id": room_id, "frame": frame, "exclude": exclude, "personal": personal}
    publish(room_group(room_id), event)


def publish_room_frames(frames: dict[int, dict[str, Any]]) -> None:
    """``publish_room_frame`` for several rooms at once (each frame to every socket following its
    room), as one event that every hub reads. It is sent after everything published before it
    and before everything after, so it neither overtakes nor is overtaken by those rooms' other
    events (except between the shards of a sharded layer, which keep no order between them). A
    process of an earlier Parley, not in ``ROOMS_GROUP``, does not get it (a rolling deploy: see
    the README)."""
    if len(frames) == 1:
        [(room_id, frame)] = frames.items()
        publish_room_frame(room_id, frame)
        return
    entries = [{"room_id": room_id, "frame": frame} for room_id, frame in frames.items()]
    event = {"type": ROOMS_FRAMES, "frames": entries}
    publish(ROOMS_GROUP, event, alone=True)


def publish_room_frame_on_commit(
    room_id: int, frame: dict[str, Any], *, personal: dict[str, dict[str, Any]] | None = None
) -> None:
    """``publish_room_frame`` after the current transaction commits (for frames about stored data)."""
    transaction.on_commit(partial(publish_room_frame, room_id, frame, personal=personal))


def publish_user_frame_on_commit(user_id: int, frame: dict[str, Any]) -> None:
    """Send a frame to every socket of a user, on every process, after commit (read markers)."""
    event = {"type": USER_FRAME, "user_id": user_id, "frame": frame}
    transaction.on_commit(partial(publish, user_group(user_id), event))


def publish_room_kick_on_commit(room_id: int, user_id: int, detail: str) -> None:
    """After commit, take the room away from every socket of a user (a ban): each is told ``detail``
    in a ``forbidden`` error and gets ``unsubscribed``."""
    event = {"type": ROOM_KICK, "room_id": room_id, "user_id": user_id, "detail": detail}
    transaction.on_commit(partial(publish, room_group(room_id), event))


def publish_room_closed_on_commit(room_id: int, readers: Iterable[int], detail: str) -> None:
    """After commit, take the room away from every socket whose user is not one of ``readers``,
    guests included (the room became private), as ``publish_room_kick_on_commit`` does for one user."""
    event = {"type": ROOM_CLOSED, "room_id": room_id, "readers": sorted(readers), "detail": detail}
    transaction.on_commit(partial(publish, room_group(room_id), event))
