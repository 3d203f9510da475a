"""The per-process fan-out hub, in rooms of its own.

- ``encoding``: every server frame's JSON, and a stored message encoded once per protocol;
- ``outbox``: the frames waiting to be written to one socket, bounded in bytes;
- ``room_feeds``: the rooms this process follows, in seq order and without gaps, and each
  socket's subscription to one;
- ``user_feeds``: the users this process follows, and each socket's inbox of their notifications;
- ``sign_ins``: how each signed-in socket signed in, to close it when that sign-in ends;
- ``coordinator``: the ``Hub``, which joins the channel layer's groups once per process and hands
  each event to the feed it is for, by the event's name.
"""

from __future__ import annotations

from parley.realtime.hub.coordinator import Hub, get_hub, presence_diff
from parley.realtime.hub.encoding import EventBatch, Format, RoomEvent, encode_json, message_frame_json
from parley.realtime.hub.outbox import Outbox, SendCallable
from parley.realtime.hub.room_feeds import Listener, RoomFeed, Subscription
from parley.realtime.hub.sign_ins import TOKEN_REVOKED_DETAIL, SignIn
from parley.realtime.hub.user_feeds import Inbox, RecentIds, UserFeed

__all__ = [
    "TOKEN_REVOKED_DETAIL",
    "EventBatch",
    "Format",
    "Hub",
    "Inbox",
    "Listener",
    "Outbox",
    "RecentIds",
    "RoomEvent",
    "RoomFeed",
    "SendCallable",
    "SignIn",
    "Subscription",
    "UserFeed",
    "encode_json",
    "get_hub",
    "message_frame_json",
    "presence_diff",
]
