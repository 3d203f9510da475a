"""Parley protocol v1 frames: generated from clients/protocol/frames.schema.json, do not edit.

Rewrite with ``python clients/python/scripts/gen_frames.py``; a test fails when this file is stale.
Client frames are ``TypedDict``s (JSON objects the client sends); server frames, and the objects
inside them, are frozen dataclasses built with ``from_json``, which ignores fields it does not know
(newer servers may add some) and fills optional ones with their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NotRequired, TypedDict

# Client -> server


class Subscribe(TypedDict):
    """Start receiving a room's messages; with ``since``, first replay those after that seq."""

    ref: NotRequired[str | int | None]
    type: Literal["subscribe"]
    # The room's slug.
    room: str
    # Replay the stored messages after this seq first (at most PARLEY_REPLAY_LIMIT).
    since: NotRequired[int | None]


class Unsubscribe(TypedDict):
    """Stop receiving a room's messages."""

    ref: NotRequired[str | int | None]
    type: Literal["unsubscribe"]
    # The room's slug.
    room: str


class Send(TypedDict):
    """Post a message; ``client_id`` makes a retry store nothing new."""

    ref: NotRequired[str | int | None]
    type: Literal["send"]
    # The room's slug.
    room: str
    # The text, 1 to PARLEY_MAX_BODY (default 4000) characters, not blank.
    body: str
    # The sender's unique id for this message, e.g. a UUID.
    client_id: str
    # Reply in the thread of this message (its seq in the same room).
    reply_to: NotRequired[int | None]
    # Ids of files you uploaded to this room (POST /api/rooms/{slug}/attachments) and not yet attached; at most
    # PARLEY_ATTACHMENT_MAX_COUNT (default 10).
    attachments: NotRequired[list[int]]


class History(TypedDict):
    """Ask for a page of a room's messages before ``before`` (or the newest)."""

    ref: NotRequired[str | int | None]
    type: Literal["history"]
    # The room's slug.
    room: str
    # Only messages with a smaller seq; omit for the newest.
    before: NotRequired[int | None]
    # Page size.
    limit: NotRequired[int]
    # A thread instead of the room: the original with this seq, then its replies (paged by before).
    thread: NotRequired[int | None]


class Ping(TypedDict):
    """Check that the connection is alive."""

    ref: NotRequired[str | int | None]
    type: Literal["ping"]


class Notifications(TypedDict):
    """Replay the notifications after ``since`` (an id); live ones arrive without asking."""

    ref: NotRequired[str | int | None]
    type: Literal["notifications"]
    # Replay this user's notifications after this id (at most PARLEY_REPLAY_LIMIT).
    since: NotRequired[int | None]


class NotificationRead(TypedDict):
    """Mark one notification (``id``) or all of them (``all``: true) read."""

    ref: NotRequired[str | int | None]
    type: Literal["notification_read"]
    # The notification to mark read.
    id: NotRequired[int | None]
    # Mark every notification read instead.
    all: NotRequired[bool]


class Edit(TypedDict):
    """Replace the body of one of your own messages."""

    ref: NotRequired[str | int | None]
    # The room's slug.
    room: str
    # The message's seq.
    seq: int
    type: Literal["edit"]
    # The new text, 1 to PARLEY_MAX_BODY (default 4000) characters, not blank.
    body: str


class Delete(TypedDict):
    """Delete a message: your own, or any in a room you moderate; its seq stays, its body goes."""

    ref: NotRequired[str | int | None]
    # The room's slug.
    room: str
    # The message's seq.
    seq: int
    type: Literal["delete"]


class React(TypedDict):
    """Put an emoji on a message (``on``: true) or take yours off (``on``: false); signed-in users only."""

    ref: NotRequired[str | int | None]
    # The room's slug.
    room: str
    # The message's seq.
    seq: int
    type: Literal["react"]
    # One emoji: 1 to 16 characters, not all ASCII, no white space, control characters or '/'.
    emoji: str
    # true adds your reaction, false removes it.
    on: bool


class Read(TypedDict):
    """Mark a room read up to ``seq``; the marker never moves back. Signed-in users only."""

    ref: NotRequired[str | int | None]
    type: Literal["read"]
    # The room's slug.
    room: str
    # The newest seq the user has seen; one beyond the room's newest counts as the newest.
    seq: int


class Typing(TypedDict):
    """Say you are typing in a room you follow; the others get ``typing``. No reply; at most one every 2 s
    counts.
    """

    ref: NotRequired[str | int | None]
    type: Literal["typing"]
    # The room's slug (a room this socket is subscribed to).
    room: str


# Objects inside server frames


@dataclass(frozen=True, kw_only=True)
class AttachmentData:
    """A file attached to a message; its URLs answer only people who may read the room."""

    # The attachment's id.
    id: int
    # The file's name as uploaded.
    name: str
    # Its media type, read from its content (not its name).
    content_type: str
    # Its size in bytes, as served.
    size: int
    # Where to fetch it (a path on this site, for a reader of the room).
    url: str
    # An image's thumbnail (at most 320 px), or null.
    thumbnail_url: str | None
    # An image's width in pixels, or null.
    width: int | None
    # An image's height in pixels, or null.
    height: int | None
    # An image with several frames (it is served animated).
    animated: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AttachmentData:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            id=data["id"],
            name=data["name"],
            content_type=data["content_type"],
            size=data["size"],
            url=data["url"],
            thumbnail_url=data["thumbnail_url"],
            width=data["width"],
            height=data["height"],
            animated=data["animated"],
        )


@dataclass(frozen=True, kw_only=True)
class Author:
    """Who wrote a message: a user (``id`` set) or a guest (``id`` null, ``guest`` true)."""

    id: int | None
    name: str
    guest: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Author:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            id=data["id"],
            name=data["name"],
            guest=data["guest"],
        )


@dataclass(frozen=True, kw_only=True)
class MessageData:
    """A stored message as every client sees it (live, replayed, or in a history page)."""

    # The room's slug.
    room: str
    # The message's place in its room: 1, 2, 3… with no gaps.
    seq: int
    # The message's id, unique across rooms.
    id: int
    # {id, name, guest}: id is null for guests.
    author: Author
    body: str
    # When it was stored: ISO 8601, UTC.
    created_at: str
    # The client_id it was sent with.
    client_id: str
    # When its body was last edited (ISO 8601, UTC), or null.
    edited_at: str | None
    # Deleted: body is then empty and reactions are gone.
    deleted: bool
    # How many people put each emoji on it, in the order first used.
    reactions: dict[str, int]
    # The emoji the reader put on it, in replays and history pages; [] in live message frames.
    mine: list[str]
    # The seq of the thread's original, for a reply; else null.
    reply_to: int | None
    # How many replies its thread has (0 for a reply).
    thread_count: int
    # Files attached to it, in upload order ([] when deleted).
    attachments: list[AttachmentData]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MessageData:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            room=data["room"],
            seq=data["seq"],
            id=data["id"],
            author=Author.from_json(data["author"]),
            body=data["body"],
            created_at=data["created_at"],
            client_id=data["client_id"],
            edited_at=data["edited_at"],
            deleted=data["deleted"],
            reactions=data["reactions"],
            mine=data["mine"],
            reply_to=data["reply_to"],
            thread_count=data["thread_count"],
            attachments=[AttachmentData.from_json(item) for item in data["attachments"]],
        )


# Server -> client


@dataclass(frozen=True, kw_only=True)
class Message(MessageData):
    """A message frame: one stored message."""

    TYPE: ClassVar[str] = "message"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            room=data["room"],
            seq=data["seq"],
            id=data["id"],
            author=Author.from_json(data["author"]),
            body=data["body"],
            created_at=data["created_at"],
            client_id=data["client_id"],
            edited_at=data["edited_at"],
            deleted=data["deleted"],
            reactions=data["reactions"],
            mine=data["mine"],
            reply_to=data["reply_to"],
            thread_count=data["thread_count"],
            attachments=[AttachmentData.from_json(item) for item in data["attachments"]],
        )


@dataclass(frozen=True, kw_only=True)
class Subscribed:
    """Sent after a subscribe's replay; live messages follow."""

    TYPE: ClassVar[str] = "subscribed"
    ref: str | int | None = None
    room: str
    # The room's latest seq when the subscription started.
    head: int
    # More messages were missed than were replayed.
    truncated: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Subscribed:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            room=data["room"],
            head=data["head"],
            truncated=data["truncated"],
        )


@dataclass(frozen=True, kw_only=True)
class Unsubscribed:
    """Confirms an unsubscribe; or, without a ``ref`` and right after an ``error`` ``forbidden`` that says why,
    tells that the room was taken away: the user was banned or removed, or the room was made private and the
    user is not a member.
    """

    TYPE: ClassVar[str] = "unsubscribed"
    ref: str | int | None = None
    room: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Unsubscribed:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            room=data["room"],
        )


@dataclass(frozen=True, kw_only=True)
class Ack:
    """Confirms that a sent message is stored, with its place in the room."""

    TYPE: ClassVar[str] = "ack"
    ref: str | int | None = None
    room: str
    client_id: str
    # The stored message's seq.
    seq: int
    # The stored message's id.
    id: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ack:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            room=data["room"],
            client_id=data["client_id"],
            seq=data["seq"],
            id=data["id"],
        )


@dataclass(frozen=True, kw_only=True)
class HistoryPage:
    """A page of messages, oldest first."""

    TYPE: ClassVar[str] = "history"
    ref: str | int | None = None
    room: str
    # Message objects, oldest first; for a thread, the original and then its replies.
    messages: list[MessageData]
    # The thread's original when the page is of a thread; else null.
    thread: int | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HistoryPage:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            room=data["room"],
            messages=[MessageData.from_json(item) for item in data["messages"]],
            thread=data["thread"],
        )


@dataclass(frozen=True, kw_only=True)
class Pong:
    """Answers a ping."""

    TYPE: ClassVar[str] = "pong"
    ref: str | int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pong:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
        )


@dataclass(frozen=True, kw_only=True)
class Notification:
    """A notification for the connection's user, live or replayed; no subscription needed."""

    TYPE: ClassVar[str] = "notification"
    # The notification's id; ids grow in the order notifications are stored.
    id: int
    # What happened, e.g. order.status or mention.
    kind: str
    # Details that depend on the kind, e.g. {order_id, status}; a mention's {room, seq, message_id, author, excerpt}
    # becomes {withheld: true} once you may no longer read its room.
    data: dict[str, Any]
    # When it was stored: ISO 8601, UTC.
    created_at: str
    # Whether the recipient has marked it read.
    read: bool
    # What it says, for people, worded by the server: by the kind's registered wording (parley.notifications.kinds),
    # else data.text, data.title or the kind.
    text: str
    # Where it leads: a path on this site or a URL on an allowed origin; null for no link.
    url: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notification:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            id=data["id"],
            kind=data["kind"],
            data=data["data"],
            created_at=data["created_at"],
            read=data["read"],
            text=data["text"],
            url=data["url"],
        )


@dataclass(frozen=True, kw_only=True)
class NotificationsReplayed:
    """Sent after a ``notifications`` replay; live notifications follow."""

    TYPE: ClassVar[str] = "notifications"
    ref: str | int | None = None
    # How many of the user's notifications are unread.
    unread: int
    # More notifications were missed than were replayed.
    truncated: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotificationsReplayed:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            unread=data["unread"],
            truncated=data["truncated"],
        )


@dataclass(frozen=True, kw_only=True)
class NotificationsUnread:
    """The user's unread notification count, whenever it changes (to every socket of the user)."""

    TYPE: ClassVar[str] = "notifications_unread"
    ref: str | int | None = None
    # How many of the user's notifications are unread.
    count: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotificationsUnread:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            count=data["count"],
        )


@dataclass(frozen=True, kw_only=True)
class MessageUpdated:
    """A message was edited or deleted: its current state (to the room, and as the reply to ``edit`` or
    ``delete``).
    """

    TYPE: ClassVar[str] = "message_updated"
    ref: str | int | None = None
    room: str
    # The message's seq.
    seq: int
    # The current body; empty when deleted.
    body: str
    # When its body was last edited (ISO 8601, UTC), or null.
    edited_at: str | None
    # The message was deleted: show it as such, with no reactions.
    deleted: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MessageUpdated:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            room=data["room"],
            seq=data["seq"],
            body=data["body"],
            edited_at=data["edited_at"],
            deleted=data["deleted"],
        )


@dataclass(frozen=True, kw_only=True)
class Reactions:
    """A message's reactions changed: the new counts (to the room, and as the reply to ``react``)."""

    TYPE: ClassVar[str] = "reactions"
    ref: str | int | None = None
    room: str
    # The message's seq.
    seq: int
    # How many people put each emoji on it, in the order first used.
    counts: dict[str, int]
    # The emoji the receiving user put on it ([] for guests and non-reactors).
    mine: list[str]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reactions:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            room=data["room"],
            seq=data["seq"],
            counts=data["counts"],
            mine=data["mine"],
        )


@dataclass(frozen=True, kw_only=True)
class ThreadUpdated:
    """A thread's count changed, to the room: a reply was posted (it also comes as a message) or deleted."""

    TYPE: ClassVar[str] = "thread"
    ref: str | int | None = None
    room: str
    # The seq of the thread's original.
    seq: int
    # How many replies the thread has now (deleted ones do not count).
    thread_count: int
    # The seq of the newest reply still there; null when a deletion left the thread without any.
    last_reply: int | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThreadUpdated:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            room=data["room"],
            seq=data["seq"],
            thread_count=data["thread_count"],
            last_reply=data["last_reply"],
        )


@dataclass(frozen=True, kw_only=True)
class Unread:
    """A user's unread state in a room: answers ``read``; to all their sockets when it moves or a DM comes."""

    TYPE: ClassVar[str] = "unread"
    ref: str | int | None = None
    room: str
    # Messages after last_read, not the user's own, not deleted (counted among the room's newest 1000).
    count: int
    # The seq up to which the user has read the room (0: nothing yet).
    last_read: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Unread:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            room=data["room"],
            count=data["count"],
            last_read=data["last_read"],
        )


@dataclass(frozen=True, kw_only=True)
class Presence:
    """Who is in the room: sent right after ``subscribed``; ``presence_diff`` frames follow."""

    TYPE: ClassVar[str] = "presence"
    # The room's slug.
    room: str
    # Everyone with a socket following the room, each person once.
    online: list[Author]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Presence:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            room=data["room"],
            online=[Author.from_json(item) for item in data["online"]],
        )


@dataclass(frozen=True, kw_only=True)
class PresenceDiff:
    """People arrived in or left the room (a person leaves when their last socket stops following it)."""

    TYPE: ClassVar[str] = "presence_diff"
    # The room's slug.
    room: str
    # People who arrived.
    joined: list[Author]
    # People who left, or whose server process stopped answering.
    left: list[Author]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PresenceDiff:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            room=data["room"],
            joined=[Author.from_json(item) for item in data["joined"]],
            left=[Author.from_json(item) for item in data["left"]],
        )


@dataclass(frozen=True, kw_only=True)
class TypingNotice:
    """Someone else in the room is typing; show it for a few seconds unless it comes again."""

    TYPE: ClassVar[str] = "typing"
    # The room's slug.
    room: str
    # Who is typing: {id, name, guest}.
    user: Author

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TypingNotice:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            room=data["room"],
            user=Author.from_json(data["user"]),
        )


@dataclass(frozen=True, kw_only=True)
class Error:
    """Answers a frame that could not be carried out; the connection stays open."""

    TYPE: ClassVar[str] = "error"
    ref: str | int | None = None
    # invalid, forbidden, not_found, too_large, rate_limited, unavailable or internal.
    code: Literal["invalid", "forbidden", "not_found", "too_large", "rate_limited", "unavailable", "internal"]
    # A sentence for people: what was wrong and what to do.
    detail: str
    # With rate_limited: seconds after which the same frame can succeed.
    retry_after: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Error:
        """Build it from a decoded JSON object; unknown fields are ignored."""
        return cls(
            ref=data.get("ref", cls.ref),
            code=data["code"],
            detail=data["detail"],
            retry_after=data.get("retry_after", cls.retry_after),
        )


ClientFrame = (
    Subscribe
    | Unsubscribe
    | Send
    | History
    | Ping
    | Notifications
    | NotificationRead
    | Edit
    | Delete
    | React
    | Read
    | Typing
)
ServerFrame = (
    Message
    | Subscribed
    | Unsubscribed
    | Ack
    | HistoryPage
    | Pong
    | Notification
    | NotificationsReplayed
    | NotificationsUnread
    | MessageUpdated
    | Reactions
    | ThreadUpdated
    | Unread
    | Presence
    | PresenceDiff
    | TypingNotice
    | Error
)

# Each server frame's class by its ``type``.
SERVER_FRAMES: dict[str, type[ServerFrame]] = {
    "message": Message,
    "subscribed": Subscribed,
    "unsubscribed": Unsubscribed,
    "ack": Ack,
    "history": HistoryPage,
    "pong": Pong,
    "notification": Notification,
    "notifications": NotificationsReplayed,
    "notifications_unread": NotificationsUnread,
    "message_updated": MessageUpdated,
    "reactions": Reactions,
    "thread": ThreadUpdated,
    "unread": Unread,
    "presence": Presence,
    "presence_diff": PresenceDiff,
    "typing": TypingNotice,
    "error": Error,
}
CLIENT_FRAME_TYPES: tuple[str, ...] = (
    "subscribe",
    "unsubscribe",
    "send",
    "history",
    "ping",
    "notifications",
    "notification_read",
    "edit",
    "delete",
    "react",
    "read",
    "typing",
)


# The server frames ``ParleyClient.events()`` yields as they come (the client consumes the others).
FrameEvent = (
    Notification
    | NotificationsUnread
    | MessageUpdated
    | Reactions
    | ThreadUpdated
    | Unread
    | Presence
    | PresenceDiff
    | TypingNotice
)
EVENT_FRAME_TYPES: tuple[str, ...] = (
    "notification",
    "notifications_unread",
    "message_updated",
    "reactions",
    "thread",
    "unread",
    "presence",
    "presence_diff",
    "typing",
)
