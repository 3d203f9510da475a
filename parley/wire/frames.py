"""Protocol v1: one pydantic model per frame type, client → server and server → client.

These models are the wire contract of ``docs/protocol.md``, whose tables are generated from them
(``parley.wire.doc``), as is the clients' JSON Schema (``parley.wire.schema``). Client frames are
validated strictly (a number must be a JSON number, a string a JSON string); unknown fields are
ignored so that newer clients can talk to older servers.

One module on purpose, longer than most: the whole protocol reads top to bottom in the order
``docs/protocol.md`` gives it, and its length is the number of frame types.
"""

from __future__ import annotations

import json
import typing
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from parley.wire.errors import ErrorCode, ParleyError
from parley.wire.text import MAX_ATTACHMENT_IDS, MAX_SEQ, Body, ClientId, Emoji, Ref, Seq, Slug, check_json_depth

# --- client → server -----------------------------------------------------------------------


class ClientFrame(BaseModel):
    """Fields every client frame may carry."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    ref: Ref | None = None


class Subscribe(ClientFrame):
    """Start receiving a room's messages; with ``since``, first replay those after that seq."""

    type: Literal["subscribe"]
    room: Slug = Field(description="The room's slug.")
    since: Seq | None = Field(
        default=None, description="Replay the stored messages after this seq first (at most PARLEY_REPLAY_LIMIT)."
    )


class Unsubscribe(ClientFrame):
    """Stop receiving a room's messages."""

    type: Literal["unsubscribe"]
    room: Slug = Field(description="The room's slug.")


class Send(ClientFrame):
    """Post a message; ``client_id`` makes a retry store nothing new."""

    type: Literal["send"]
    room: Slug = Field(description="The room's slug.")
    body: Body = Field(description="The text, 1 to PARLEY_MAX_BODY (default 4000) characters, not blank.")
    client_id: ClientId = Field(description="The sender's unique id for this message, e.g. a UUID.")
    reply_to: Seq | None = Field(
        default=None, description="Reply in the thread of this message (its seq in the same room)."
    )
    attachments: Annotated[list[Seq], Field(max_length=MAX_ATTACHMENT_IDS)] = Field(
        default_factory=list,
        description=(
            "Ids of files you uploaded to this room (POST /api/rooms/{slug}/attachments) and not yet attached; "
            "at most PARLEY_ATTACHMENT_MAX_COUNT (default 10)."
        ),
    )


class History(ClientFrame):
    """Ask for a page of a room's messages before ``before`` (or the newest)."""

    type: Literal["history"]
    room: Slug = Field(description="The room's slug.")
    before: Seq | None = Field(default=None, description="Only messages with a smaller seq; omit for the newest.")
    limit: Annotated[int, Field(ge=1, le=100)] = Field(default=50, description="Page size.")
    thread: Seq | None = Field(
        default=None,
        description="A thread instead of the room: the original with this seq, then its replies (paged by before).",
    )


class Ping(ClientFrame):
    """Check that the connection is alive."""

    type: Literal["ping"]


class Notifications(ClientFrame):
    """Replay the notifications after ``since`` (an id); live ones arrive without asking."""

    type: Literal["notifications"]
    since: Seq | None = Field(
        default=None, description="Replay this user's notifications after this id (at most PARLEY_REPLAY_LIMIT)."
    )


class NotificationRead(ClientFrame):
    """Mark one notification (``id``) or all of them (``all``: true) read."""

    type: Literal["notification_read"]
    id: Seq | None = Field(default=None, description="The notification to mark read.")
    all: bool = Field(default=False, description="Mark every notification read instead.")

    @model_validator(mode="after")
    def _one_target(self) -> NotificationRead:
        if (self.id is None) == (not self.all):
            raise ValueError("Give either 'id' (a notification id) or 'all': true.")
        return self


class MessageFrame(ClientFrame):
    """Fields of a frame about one stored message."""

    room: Slug = Field(description="The room's slug.")
    seq: Seq = Field(description="The message's seq.")


class Edit(MessageFrame):
    """Replace the body of one of your own messages."""

    type: Literal["edit"]
    body: Body = Field(description="The new text, 1 to PARLEY_MAX_BODY (default 4000) characters, not blank.")


class Delete(MessageFrame):
    """Delete a message: your own, or any in a room you moderate; its seq stays, its body goes."""

    type: Literal["delete"]


class React(MessageFrame):
    """Put an emoji on a message (``on``: true) or take yours off (``on``: false); signed-in users only."""

    type: Literal["react"]
    emoji: Emoji = Field(
        description="One emoji: 1 to 16 characters, not all ASCII, no white space, control characters or '/'."
    )
    on: bool = Field(description="true adds your reaction, false removes it.")


class Read(ClientFrame):
    """Mark a room read up to ``seq``; the marker never moves back. Signed-in users only."""

    type: Literal["read"]
    room: Slug = Field(description="The room's slug.")
    seq: Seq = Field(description="The newest seq the user has seen; one beyond the room's newest counts as the newest.")


class Typing(ClientFrame):
    """Say you are typing in a room you follow; the others get ``typing``. No reply; at most one every 2 s counts."""

    type: Literal["typing"]
    room: Slug = Field(description="The room's slug (a room this socket is subscribed to).")


AnyClientFrame = Annotated[
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
    | Typing,
    Field(discriminator="type"),
]
CLIENT_FRAMES: tuple[type[ClientFrame], ...] = typing.get_args(typing.get_args(AnyClientFrame)[0])
"""Every client frame model, in the protocol document's order (read off ``AnyClientFrame``)."""


def frame_type(model: type[BaseModel]) -> str:
    """The ``type`` a frame model carries on the wire."""
    return str(typing.get_args(model.model_fields["type"].annotation)[0])


CLIENT_FRAME_TYPES = tuple(frame_type(model) for model in CLIENT_FRAMES)
_client_frame_adapter: TypeAdapter[AnyClientFrame] = TypeAdapter(AnyClientFrame)


# --- server → client -----------------------------------------------------------------------


class ServerFrame(BaseModel):
    """Base of every frame the server sends; ``type`` comes first on the wire."""

    model_config = ConfigDict(frozen=True)

    type: str

    def to_json(self) -> str:
        """The frame as a JSON text frame; a reply to a frame without ``ref`` carries none."""
        return self.model_dump_json(exclude={"ref"} if getattr(self, "ref", None) is None else None)


class Author(BaseModel):
    """Who wrote a message: a user (``id`` set) or a guest (``id`` null, ``guest`` true)."""

    id: int | None
    name: str
    guest: bool


class AttachmentData(BaseModel):
    """A file attached to a message; its URLs answer only people who may read the room."""

    id: int = Field(description="The attachment's id.")
    name: str = Field(description="The file's name as uploaded.")
    content_type: str = Field(description="Its media type, read from its content (not its name).")
    size: int = Field(description="Its size in bytes, as served.")
    url: str = Field(description="Where to fetch it (a path on this site, for a reader of the room).")
    thumbnail_url: str | None = Field(description="An image's thumbnail (at most 320 px), or null.")
    width: int | None = Field(description="An image's width in pixels, or null.")
    height: int | None = Field(description="An image's height in pixels, or null.")
    animated: bool = Field(description="An image with several frames (it is served animated).")


class MessageData(BaseModel):
    """A stored message as every client sees it (live, replayed, or in a history page)."""

    room: str = Field(description="The room's slug.")
    seq: int = Field(description="The message's place in its room: 1, 2, 3… with no gaps.")
    id: int = Field(description="The message's id, unique across rooms.")
    author: Author = Field(description="{id, name, guest}: id is null for guests.")
    body: str
    created_at: str = Field(description="When it was stored: ISO 8601, UTC.")
    client_id: str = Field(description="The client_id it was sent with.")
    edited_at: str | None = Field(description="When its body was last edited (ISO 8601, UTC), or null.")
    deleted: bool = Field(description="Deleted: body is then empty and reactions are gone.")
    reactions: dict[str, int] = Field(description="How many people put each emoji on it, in the order first used.")
    mine: list[str] = Field(
        description="The emoji the reader put on it, in replays and history pages; [] in live message frames."
    )
    reply_to: int | None = Field(description="The seq of the thread's original, for a reply; else null.")
    thread_count: int = Field(description="How many replies its thread has (0 for a reply).")
    attachments: list[AttachmentData] = Field(description="Files attached to it, in upload order ([] when deleted).")


class Message(MessageData, ServerFrame):
    """A message frame: one stored message."""

    type: Literal["message"] = "message"


class Reply(ServerFrame):
    """A frame that answers a client frame, echoing its ``ref``."""

    ref: Ref | None = None


class RoomReply(Reply):
    """A reply about one room."""

    room: str


class Subscribed(RoomReply):
    """Sent after a subscribe's replay; live messages follow."""

    type: Literal["subscribed"] = "subscribed"
    head: int = Field(description="The room's latest seq when the subscription started.")
    truncated: bool = Field(description="More messages were missed than were replayed.")


class Unsubscribed(RoomReply):
    """Confirms an unsubscribe; or, without a ``ref`` and right after an ``error`` ``forbidden``
    that says why, tells that the room was taken away: the user was banned or removed, or the
    room was made private and the user is not a member."""

    type: Literal["unsubscribed"] = "unsubscribed"


class Ack(RoomReply):
    """Confirms that a sent message is stored, with its place in the room."""

    type: Literal["ack"] = "ack"
    client_id: str
    seq: int = Field(description="The stored message's seq.")
    id: int = Field(description="The stored message's id.")


class HistoryPage(RoomReply):
    """A page of messages, oldest first."""

    type: Literal["history"] = "history"
    messages: list[MessageData] = Field(
        description="Message objects, oldest first; for a thread, the original and then its replies."
    )
    thread: int | None = Field(description="The thread's original when the page is of a thread; else null.")


class Pong(Reply):
    """Answers a ping."""

    type: Literal["pong"] = "pong"


class Presence(ServerFrame):
    """Who is in the room: sent right after ``subscribed``; ``presence_diff`` frames follow."""

    type: Literal["presence"] = "presence"
    room: str = Field(description="The room's slug.")
    online: list[Author] = Field(description="Everyone with a socket following the room, each person once.")


class PresenceDiff(ServerFrame):
    """People arrived in or left the room (a person leaves when their last socket stops following it)."""

    type: Literal["presence_diff"] = "presence_diff"
    room: str = Field(description="The room's slug.")
    joined: list[Author] = Field(description="People who arrived.")
    left: list[Author] = Field(description="People who left, or whose server process stopped answering.")


class TypingNotice(ServerFrame):
    """Someone else in the room is typing; show it for a few seconds unless it comes again."""

    type: Literal["typing"] = "typing"
    room: str = Field(description="The room's slug.")
    user: Author = Field(description="Who is typing: {id, name, guest}.")


class MessageUpdated(RoomReply):
    """A message was edited or deleted: its current state (to the room, and as the reply to ``edit`` or ``delete``)."""

    type: Literal["message_updated"] = "message_updated"
    seq: int = Field(description="The message's seq.")
    body: str = Field(description="The current body; empty when deleted.")
    edited_at: str | None = Field(description="When its body was last edited (ISO 8601, UTC), or null.")
    deleted: bool = Field(description="The message was deleted: show it as such, with no reactions.")


class Reactions(RoomReply):
    """A message's reactions changed: the new counts (to the room, and as the reply to ``react``)."""

    type: Literal["reactions"] = "reactions"
    seq: int = Field(description="The message's seq.")
    counts: dict[str, int] = Field(description="How many people put each emoji on it, in the order first used.")
    mine: list[str] = Field(description="The emoji the receiving user put on it ([] for guests and non-reactors).")


class ThreadUpdated(RoomReply):
    """A thread's count changed, to the room: a reply was posted (it also comes as a message) or deleted."""

    type: Literal["thread"] = "thread"
    seq: int = Field(description="The seq of the thread's original.")
    thread_count: int = Field(description="How many replies the thread has now (deleted ones do not count).")
    last_reply: int | None = Field(
        description="The seq of the newest reply still there; null when a deletion left the thread without any."
    )


class NotificationData(BaseModel):
    """A stored notification as its recipient sees it."""

    id: int = Field(description="The notification's id; ids grow in the order notifications are stored.")
    kind: str = Field(description="What happened, e.g. order.status or mention.")
    data: dict[str, Any] = Field(
        description=(
            "Details that depend on the kind, e.g. {order_id, status}; a mention's {room, seq, message_id, "
            "author, excerpt} becomes {withheld: true} once you may no longer read its room."
        )
    )
    created_at: str = Field(description="When it was stored: ISO 8601, UTC.")
    read: bool = Field(description="Whether the recipient has marked it read.")
    text: str = Field(
        description=(
            "What it says, for people, worded by the server: by the kind's registered wording "
            "(parley.notifications.kinds), else data.text, data.title or the kind."
        )
    )
    url: str | None = Field(
        description="Where it leads: a path on this site or a URL on an allowed origin; null for no link."
    )


class Notification(NotificationData, ServerFrame):
    """A notification for the connection's user, live or replayed; no subscription needed."""

    type: Literal["notification"] = "notification"


class NotificationsReplayed(Reply):
    """Sent after a ``notifications`` replay; live notifications follow."""

    type: Literal["notifications"] = "notifications"
    unread: int = Field(description="How many of the user's notifications are unread.")
    truncated: bool = Field(description="More notifications were missed than were replayed.")


class NotificationsUnread(Reply):
    """The user's unread notification count, whenever it changes (to every socket of the user)."""

    type: Literal["notifications_unread"] = "notifications_unread"
    count: int = Field(description="How many of the user's notifications are unread.")


class Unread(RoomReply):
    """A user's unread state in a room: answers ``read``; to all their sockets when it moves or a DM comes."""

    type: Literal["unread"] = "unread"
    count: int = Field(
        description="Messages after last_read, not the user's own, not deleted (counted among the room's newest 1000)."
    )
    last_read: int = Field(description="The seq up to which the user has read the room (0: nothing yet).")


class Error(Reply):
    """Answers a frame that could not be carried out; the connection stays open."""

    type: Literal["error"] = "error"
    code: ErrorCode = Field(
        description="invalid, forbidden, not_found, too_large, rate_limited, unavailable or internal."
    )
    detail: str = Field(description="A sentence for people: what was wrong and what to do.")
    retry_after: float | None = Field(
        default=None, description="With rate_limited: seconds after which the same frame can succeed."
    )

    def to_json(self) -> str:
        """The frame as a JSON text frame, without ``ref`` or ``retry_after`` when it has none."""
        return self.model_dump_json(exclude_none=True)


SERVER_FRAMES: tuple[type[ServerFrame], ...] = (
    Message,
    Subscribed,
    Unsubscribed,
    Ack,
    HistoryPage,
    Pong,
    Notification,
    NotificationsReplayed,
    NotificationsUnread,
    MessageUpdated,
    Reactions,
    ThreadUpdated,
    Unread,
    Presence,
    PresenceDiff,
    TypingNotice,
    Error,
)
"""Every server frame model, in the protocol document's order."""


def error_frame(error: ParleyError, ref: str | int | None = None) -> Error:
    """The ``error`` frame that answers a refused client frame (``ref``: the frame's, if the error has none)."""
    return Error(
        ref=error.ref if error.ref is not None else ref,
        code=error.code,
        detail=error.detail,
        retry_after=error.retry_after,
    )


# --- parsing -------------------------------------------------------------------------------


def parse_client_frame(text: str) -> AnyClientFrame:
    """Validate one text frame, or raise ``ParleyError`` with a sentence a person can act on."""
    check_json_depth(text)
    try:
        return _client_frame_adapter.validate_json(text)
    except ValidationError as exc:
        code: ErrorCode = "too_large" if exc.errors()[0]["type"] == "too_large" else "invalid"
        raise ParleyError(code, _describe(exc), ref=_salvage_ref(text)) from None


def _describe(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    kind = error["type"]
    if kind == "json_invalid":
        return "The frame is not valid JSON; send one JSON object per text frame."
    if kind == "union_tag_not_found":
        return "The frame has no 'type'; expected one of " + ", ".join(CLIENT_FRAME_TYPES) + "."
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag", "?")
        return f"Unknown frame type {tag!r}; expected one of " + ", ".join(CLIENT_FRAME_TYPES) + "."
    if not error["loc"]:
        return "The frame must be a JSON object with a 'type' field."
    message = str(error["msg"]).removeprefix("Value error, ")
    if len(error["loc"]) == 1:
        return message  # a rule about the frame as a whole, already a sentence
    # loc is (frame type, field, …): name the field and say what is wrong with it.
    field = ".".join(str(part) for part in error["loc"][1:])
    if kind == "missing":
        return f"Field {field!r} is required."
    if kind == "string_pattern_mismatch" and field == "room":
        return "Field 'room' must be a room slug: 1 to 64 letters, digits, '-' or '_'."
    if field.startswith("ref."):
        return "Field 'ref' must be a string of at most 128 characters or an integer."
    return f"Field {field!r} {message[:1].lower()}{message[1:]}."


def _salvage_ref(text: str) -> str | int | None:
    """The ref of a frame that failed validation, when one can be read, so the error echoes it."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    ref = data.get("ref")
    if isinstance(ref, bool):
        return None
    if isinstance(ref, str) and len(ref) <= 128:
        # A ref that is not valid Unicode could not be written back in the error frame.
        return None if any(unicodedata.category(char) == "Cs" for char in ref) else ref
    if isinstance(ref, int) and abs(ref) <= MAX_SEQ:
        return ref
    return None
