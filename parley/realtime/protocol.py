"""Protocol v1: one pydantic model per frame type, client → server and server → client.

These models are the wire contract of DESIGN.md; ``docs/protocol.md`` is checked against them
by the test suite. Client frames are validated strictly (a number must be a JSON number, a string
a JSON string); unknown fields are ignored so that newer clients can talk to older servers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from parley.conf import parley_settings

if TYPE_CHECKING:
    from parley.notifications.models import Notification as StoredNotification
    from parley.rooms.models import Message as StoredMessage

ErrorCode = Literal["invalid", "forbidden", "not_found", "too_large", "rate_limited", "unavailable", "internal"]

# Largest seq a client may name: PostgreSQL's bigint.
MAX_SEQ = 2**63 - 1
# Deepest nesting of arrays and objects a client frame may have. Protocol frames need 2; the rest
# is room for additions. Checked before parsing, so no parser ever recurses on hostile input.
MAX_JSON_DEPTH = 32
# Most combining marks in a row on one character: Unicode's Stream-Safe Text Format (UAX #15)
# allows 30, more than any script writes; longer runs are "Zalgo" text drawn over other lines.
MAX_COMBINING_RUN = 30


def _check_text(value: str) -> str:
    """Refuse text that cannot be stored or shown faithfully: NUL and other control characters
    (tab and newline excepted), lone surrogates, which are not Unicode text at all, and more than
    ``MAX_COMBINING_RUN`` combining marks stacked on one character.

    Bidirectional controls (U+202A to U+202E, U+2066 to U+2069) are accepted: right-to-left writers
    use them, and the web client isolates every body so they cannot reorder anything around it.
    """
    marks = 0
    for char in value:
        if char in "\n\t":
            marks = 0
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValueError("must not contain control characters such as NUL")
        if category == "Cs":
            raise ValueError("must be valid Unicode (it contains a lone surrogate)")
        marks = marks + 1 if category[0] == "M" else 0
        if marks > MAX_COMBINING_RUN:
            raise ValueError(f"must not stack more than {MAX_COMBINING_RUN} combining marks on one character")
    return value


_JSON_STRUCTURE = re.compile(r'[\[\]{}"\\]')


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON in ``text`` nests arrays and objects more than ``limit`` deep.

    Brackets inside strings do not count. Frames with few brackets are answered from two counts;
    only the rest are scanned, and the scan stops at the first level past the limit.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped_until = -1
    for match in _JSON_STRUCTURE.finditer(text):
        position = match.start()
        if position < escaped_until:
            continue
        char = match.group()
        if in_string:
            if char == "\\":
                escaped_until = position + 2
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def check_json_depth(text: str) -> None:
    """Raise ``FrameError`` (invalid) when ``text`` nests deeper than ``MAX_JSON_DEPTH``."""
    if json_too_deep(text):
        raise FrameError(
            "invalid", f"The frame nests arrays or objects more than {MAX_JSON_DEPTH} levels deep; send a flat object."
        )


def _check_body(value: str) -> str:
    limit = parley_settings.MAX_BODY
    if len(value) > limit:
        raise PydanticCustomError(
            "too_large", "is {length} characters long; the limit is {limit}", {"length": len(value), "limit": limit}
        )
    if not value.strip():
        raise ValueError("must not be blank")
    return _check_text(value)


Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]
Ref = Annotated[str, StringConstraints(max_length=128)] | Annotated[int, Field(ge=-MAX_SEQ, le=MAX_SEQ)]
Body = Annotated[str, StringConstraints(min_length=1), AfterValidator(_check_body)]
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_text)]

# A reaction is a short symbol, usually one emoji: 1 to 16 characters (flags, skin tones and ZWJ
# families take several code points), with at least one outside ASCII (a reaction is not a word),
# and no white space, control or bidirectional-control characters, nor '/' (it travels in URL paths).
MAX_EMOJI_LENGTH = 16
# Distinct emoji one message can carry; more is refused, so that a reactions row stays one line.
MAX_REACTIONS_PER_MESSAGE = 20
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_EMOJI_REFUSED = r"\s\x00-\x1F\x7F-\x9F/\u200E\u200F\u202A-\u202E\u2066-\u2069"
# The same rule as a JSON Schema pattern, for the HTTP API's OpenAPI document (length is checked apart).
EMOJI_PATTERN = rf"^[^{_EMOJI_REFUSED}]*[^{_EMOJI_REFUSED}\x00-\x7F][^{_EMOJI_REFUSED}]*$"


def _check_emoji(value: str) -> str:
    for char in value:
        if char.isspace() or char == "/" or char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError("must be one emoji: no white space, control characters, bidirectional controls or '/'")
    if value.isascii():
        raise ValueError("must be an emoji, not plain ASCII text")
    return value


Emoji = Annotated[str, StringConstraints(min_length=1, max_length=MAX_EMOJI_LENGTH), AfterValidator(_check_emoji)]


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


class History(ClientFrame):
    """Ask for a page of a room's messages before ``before`` (or the newest)."""

    type: Literal["history"]
    room: Slug = Field(description="The room's slug.")
    before: Seq | None = Field(default=None, description="Only messages with a smaller seq; omit for the newest.")
    limit: Annotated[int, Field(ge=1, le=100)] = Field(default=50, description="Page size.")


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
CLIENT_FRAME_TYPES = (
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
    messages: list[MessageData] = Field(description="Message objects, oldest first.")


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


# --- parsing -------------------------------------------------------------------------------


class FrameError(Exception):
    """A client frame that cannot be carried out, with the ``error`` frame that answers it."""

    def __init__(self, code: ErrorCode, detail: str, ref: str | int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.ref = ref

    def frame(self) -> Error:
        return Error(ref=self.ref, code=self.code, detail=self.detail)


def parse_client_frame(text: str) -> AnyClientFrame:
    """Validate one text frame, or raise ``FrameError`` with a sentence a person can act on."""
    check_json_depth(text)
    try:
        return _client_frame_adapter.validate_json(text)
    except ValidationError as exc:
        code: ErrorCode = "too_large" if exc.errors()[0]["type"] == "too_large" else "invalid"
        raise FrameError(code, _describe(exc), ref=_salvage_ref(text)) from None


_body_adapter: TypeAdapter[str] = TypeAdapter(Body)


def validate_body(value: str) -> str:
    """Check a message body outside a frame (the article's protocol, the HTTP API)."""
    try:
        return _body_adapter.validate_python(value)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        code: ErrorCode = "too_large" if error["type"] == "too_large" else "invalid"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise FrameError(code, f"The message {message[:1].lower()}{message[1:]}.") from None


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


_emoji_adapter: TypeAdapter[str] = TypeAdapter(Emoji)


def validate_emoji(value: str) -> str:
    """Check a reaction's emoji outside a frame (the HTTP API), or raise ``FrameError`` (invalid)."""
    try:
        return _emoji_adapter.validate_python(value)
    except ValidationError as exc:
        message = str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
        raise FrameError("invalid", f"The emoji {message[:1].lower()}{message[1:]}.") from None


def iso_time(moment: datetime | None) -> str | None:
    """A stored time as the protocol writes it: ISO 8601 in UTC with a ``Z``, or None."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def message_data(
    message: StoredMessage, reactions: dict[str, int] | None = None, mine: list[str] | None = None
) -> dict[str, Any]:
    """A stored message in its wire shape (``MessageData``), as plain JSON-ready values.

    ``reactions`` and ``mine`` are read by the caller, for a whole page at once; a new message has none.
    """
    author = message.author
    deleted = message.deleted_at is not None
    return {
        "room": message.room.slug,
        "seq": message.seq,
        "id": message.pk,
        "author": {
            "id": None if author is None else author.pk,
            "name": message.guest_name if author is None else author.get_username(),
            "guest": author is None,
        },
        "body": "" if deleted else message.body,
        "created_at": iso_time(message.created_at),
        "client_id": message.client_id,
        "edited_at": iso_time(message.edited_at),
        "deleted": deleted,
        "reactions": {} if deleted or reactions is None else reactions,
        "mine": [] if deleted or mine is None else mine,
    }


def notification_data(
    notification: StoredNotification, *, data: dict[str, Any], text: str, url: str | None
) -> dict[str, Any]:
    """A stored notification in its wire shape (``NotificationData``), as plain JSON-ready values:
    with ``data`` as its recipient may see it, worded ``text`` and leading to ``url`` (the domain
    decides all three: ``parley.notifications.selectors.notification_shown``)."""
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "data": data,
        "created_at": iso_time(notification.created_at),
        "read": notification.read_at is not None,
        "text": text,
        "url": url,
    }
