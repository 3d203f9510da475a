"""Parley's Python client: ``from parley_client import ParleyClient``.

See the package's README for the delivery promise it keeps (reconnect, resume, resend) and
``parley_client.sync`` for a blocking wrapper for scripts.
"""

from __future__ import annotations

from parley_client.client import EventStream, ParleyClient, __version__, full_jitter
from parley_client.errors import (
    ClientClosed,
    Forbidden,
    HandshakeRefused,
    InternalError,
    InvalidFrame,
    NotFound,
    ParleyError,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from parley_client.events import ConnectionState, Event, RoomLost
from parley_client.frames import (
    Ack,
    AttachmentData,
    Author,
    Message,
    MessageUpdated,
    Notification,
    NotificationsReplayed,
    NotificationsUnread,
    Presence,
    PresenceDiff,
    Reactions,
    Subscribed,
    ThreadUpdated,
    TypingNotice,
    Unread,
)

__all__ = [
    "Ack",
    "AttachmentData",
    "Author",
    "ClientClosed",
    "ConnectionState",
    "Event",
    "EventStream",
    "Forbidden",
    "HandshakeRefused",
    "InternalError",
    "InvalidFrame",
    "Message",
    "MessageUpdated",
    "NotFound",
    "Notification",
    "NotificationsReplayed",
    "NotificationsUnread",
    "ParleyClient",
    "ParleyError",
    "Presence",
    "PresenceDiff",
    "RateLimited",
    "Reactions",
    "RoomLost",
    "Subscribed",
    "ThreadUpdated",
    "TooLarge",
    "TypingNotice",
    "Unauthorized",
    "Unavailable",
    "Unread",
    "__version__",
    "full_jitter",
]
