"""The one place real-time events leave the domain (Zulip's ``send_event`` idea).

Services call these functions, and only after their transaction commits, so nobody is ever told
about data that was rolled back. Events go to a channel-layer group; each server process's hub is
a member of the groups its sockets need and fans the event out locally.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from parley.realtime.outages import CHANNEL_LAYER
from parley.realtime.protocol import message_data

if TYPE_CHECKING:
    from parley.rooms.models import Message

ROOM_MESSAGE = "room.message"


def room_group(room_id: int) -> str:
    """The channel-layer group every hub with a subscriber in this room joins."""
    return f"parley.room.{room_id}"


def publish(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to every hub in ``group``. Call it only after commit (see ``*_on_commit``).

    A failure to publish is logged, not raised: the data is already stored, and subscribers that
    missed the event get it through replay or the hub's gap repair.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        CHANNEL_LAYER.failed()
    else:
        CHANNEL_LAYER.recovered()


def publish_message_on_commit(message: Message) -> None:
    """Publish a newly stored message to its room once the current transaction commits."""
    event = {
        "type": ROOM_MESSAGE,
        "room_id": message.room_id,
        "seq": message.seq,
        "message": message_data(message),
    }
    transaction.on_commit(partial(publish, room_group(message.room_id), event))
