"""Rooms: list, create, show, join, leave, read a room's messages and post one.

Every room is looked up through the access rules of ``parley.rooms.access``: a private room that
the caller may not see answers exactly like a room that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from parley.api.auth import caller, caller_user
from parley.api.errors import error_responses
from parley.api.idempotency import client_id_from_header, idempotency_key_header
from parley.api.schemas import JsonBody, MessageBody, RoomOut, Text, room_out
from parley.readstate.selectors import Unread, unread_count, unread_counts
from parley.rooms.access import check_can_create_room
from parley.rooms.models import Room
from parley.rooms.selectors import (
    membership_roles,
    message_edits,
    message_state,
    message_wire,
    messages_after,
    messages_before,
    room_for_reader,
    room_named,
    rooms_visible,
    thread_page,
)
from parley.rooms.services import (
    PostExtras,
    membership_join,
    membership_leave,
    message_delete,
    message_edit,
    message_send,
    reaction_set,
    room_create,
)
from parley.wire.frames import MessageData
from parley.wire.serializers import iso_time
from parley.wire.text import EMOJI_PATTERN, MAX_ATTACHMENT_IDS, MAX_EMOJI_LENGTH, MAX_SEQ, Slug, validate_body

router = Router(tags=["rooms"])

SlugPath = Annotated[Slug, Path(description="The room's slug.")]
SeqPath = Annotated[int, Path(ge=0, le=MAX_SEQ, description="The message's seq in the room.")]


class RoomCreate(JsonBody):
    """A new room; the caller becomes its owner."""

    slug: Slug = Field(
        description=(
            "1 to 64 letters, digits, '-' or '_'; unique; not starting with 'dm-' in any case "
            "(kept for direct messages)."
        )
    )
    title: Text = Field(default="", max_length=200, description="Shown instead of the slug; optional.")
    private: bool = Field(default=False, strict=True, description="Members only, and invisible to everyone else.")
    guests_allowed: bool = Field(default=False, strict=True, description="Let anonymous guests in (public rooms only).")


class MessageIn(JsonBody):
    """A message to post; its author is the caller."""

    body: MessageBody
    reply_to: int | None = Field(
        default=None, ge=0, le=MAX_SEQ, description="Reply in the thread of this message (its seq in the room)."
    )
    attachments: list[Annotated[int, Field(ge=0, le=MAX_SEQ)]] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENT_IDS,
        description="Ids of your uploads to this room (POST /api/rooms/{slug}/attachments) to attach.",
    )


class MessagesQuery(Schema):
    before: int | None = Field(default=None, ge=0, le=MAX_SEQ, description="Only messages with a smaller seq.")
    after: int | None = Field(
        default=None, ge=0, le=MAX_SEQ, description="Only messages with a larger seq; the page then starts there."
    )
    limit: int = Field(default=50, ge=1, le=100, description="Page size, 1 to 100.")


class MessagesPage(Schema):
    """A page of a room's messages, oldest first."""

    room: str = Field(description="The room's slug.")
    head: int = Field(description="The seq of the room's newest message when the page was read.")
    messages: list[MessageData] = Field(description="Messages, oldest first.")


def _role(room: Room, request: HttpRequest) -> str | None:
    return membership_roles(user_id=caller(request).user_id, room_ids=[room.pk]).get(room.pk)


def _unread(room: Room, request: HttpRequest) -> Unread:
    user_id = caller(request).user_id
    assert user_id is not None  # the API has no guests
    return unread_count(user_id=user_id, room_id=room.pk)


@router.get(
    "/rooms",
    response={200: list[RoomOut], **error_responses()},
    operation_id="rooms_list",
    summary="List the rooms you can enter",
)
def rooms_list(request: HttpRequest) -> list[RoomOut]:
    """Public rooms, the private rooms you belong to (staff: every room), each with your role and
    your unread count (one query for all of them, however many rooms)."""
    identity = caller(request)
    assert identity.user_id is not None  # the API has no guests
    rooms = rooms_visible(identity=identity)
    room_ids = [room.pk for room in rooms]
    roles = membership_roles(user_id=identity.user_id, room_ids=room_ids)
    unread = unread_counts(user_id=identity.user_id, room_ids=room_ids)
    nothing = Unread(count=0, last_read=0)
    return [room_out(room, roles.get(room.pk), unread.get(room.pk, nothing)) for room in rooms]


@router.post(
    "/rooms",
    response={201: RoomOut, **error_responses(403, 409)},
    operation_id="rooms_create",
    summary="Create a room",
)
def rooms_create(request: HttpRequest, payload: RoomCreate) -> Status[RoomOut]:
    """Create a room owned by you. A slug that is taken answers 409 (code invalid). With
    ``PARLEY["ROOM_CREATION"] = "permitted"``, only holders of ``parley.add_room`` may (403 otherwise)."""
    check_can_create_room(identity=caller(request))
    user = caller_user(request)
    room = room_create(
        slug=payload.slug,
        title=payload.title,
        is_private=payload.private,
        guests_allowed=payload.guests_allowed,
        creator=user,
    )
    return Status(201, room_out(room, "owner", Unread(count=0, last_read=0)))


@router.get(
    "/rooms/{slug}",
    response={200: RoomOut, **error_responses(403, 404)},
    operation_id="rooms_get",
    summary="Show a room",
)
def rooms_get(request: HttpRequest, slug: SlugPath) -> RoomOut:
    """One room you may read. A private room you are not in answers 404, like a missing one."""
    room = room_for_reader(slug=slug, identity=caller(request))
    return room_out(room, _role(room, request), _unread(room, request))


@router.post(
    "/rooms/{slug}/join",
    response={200: RoomOut, **error_responses(403, 404)},
    operation_id="rooms_join",
    summary="Join a room",
)
def rooms_join(request: HttpRequest, slug: SlugPath) -> RoomOut:
    """Become a member of a room you may read (joining twice keeps your role)."""
    room = room_for_reader(slug=slug, identity=caller(request))
    membership = membership_join(room=room, user=caller_user(request))
    return room_out(room, membership.role, _unread(room, request))


@router.post(
    "/rooms/{slug}/leave",
    response={200: RoomOut, **error_responses(403, 404)},
    operation_id="rooms_leave",
    summary="Leave a room",
)
def rooms_leave(request: HttpRequest, slug: SlugPath) -> RoomOut:
    """Stop being a member (nothing to do if you were not). The only owner of a room cannot leave it (403)."""
    room = room_for_reader(slug=slug, identity=caller(request))
    membership_leave(room=room, user=caller_user(request))
    return room_out(room, None, _unread(room, request))


@router.get(
    "/rooms/{slug}/messages",
    response={200: MessagesPage, **error_responses(403, 404)},
    operation_id="rooms_messages_list",
    summary="Read a page of a room's messages",
)
def rooms_messages_list(request: HttpRequest, slug: SlugPath, query: Query[MessagesQuery]) -> MessagesPage:
    """Oldest first. With ``after``: the messages after that seq (page forward from there); otherwise
    the newest ones before ``before`` (or the newest of all; page back with the first seq you got)."""
    identity = caller(request)
    room = room_for_reader(slug=slug, identity=identity)
    if query.after is not None:
        messages = messages_after(room=room, after=query.after, before=query.before, limit=query.limit, reader=identity)
    else:
        messages = messages_before(room=room, before=query.before, limit=query.limit, reader=identity)
    room.refresh_from_db(fields=["last_seq"])
    return MessagesPage(room=room.slug, head=room.last_seq, messages=[MessageData(**m) for m in messages])


@router.post(
    "/rooms/{slug}/messages",
    response={201: MessageData, 200: MessageData, **error_responses(403, 404, 413)},
    operation_id="rooms_messages_post",
    summary="Post a message",
)
def rooms_messages_post(
    request: HttpRequest,
    slug: SlugPath,
    payload: MessageIn,
    idempotency_key: Annotated[
        str | None,
        idempotency_key_header(
            "Your unique id for this message (1 to 64 characters, e.g. a UUID): a retry with the "
            "same key stores nothing new and answers 200 with the first message."
        ),
    ] = None,
) -> Status[MessageData]:
    """Store a message from you, deliver it to the room's sockets, and answer 201 with it (seq and id).
    Posting in a public room makes you a member."""
    identity = caller(request)
    body = validate_body(payload.body)
    extras = PostExtras(reply_to=payload.reply_to, attachments=tuple(payload.attachments))
    client_id = client_id_from_header(idempotency_key)
    result = message_send(slug=slug, sender=identity, body=body, client_id=client_id, extras=extras)
    stored = MessageData(**message_wire(result.message))
    return Status(201 if result.created else 200, stored)


class ThreadQuery(Schema):
    before: int | None = Field(default=None, ge=0, le=MAX_SEQ, description="Only replies with a smaller seq.")
    limit: int = Field(default=50, ge=1, le=100, description="How many replies, 1 to 100.")


class ThreadPage(Schema):
    """A thread: its original and a page of its replies, oldest first."""

    room: str = Field(description="The room's slug.")
    original: MessageData = Field(description="The message the thread answers; its thread_count counts the replies.")
    replies: list[MessageData] = Field(description="Replies before ``before`` (or the newest), oldest first.")


@router.get(
    "/rooms/{slug}/messages/{seq}/thread",
    response={200: ThreadPage, **error_responses(403, 404)},
    operation_id="rooms_messages_thread",
    summary="Read a message's thread",
)
def rooms_messages_thread(request: HttpRequest, slug: SlugPath, seq: SeqPath, query: Query[ThreadQuery]) -> ThreadPage:
    """The thread of message ``seq`` (of the thread it is in, for a reply): the original, then its replies
    oldest first; page back with ``before`` set to the first reply's seq."""
    identity = caller(request)
    room = room_for_reader(slug=slug, identity=identity)
    original, *replies = thread_page(room=room, seq=seq, before=query.before, limit=query.limit, reader=identity)
    return ThreadPage(
        room=room.slug, original=MessageData(**original), replies=[MessageData(**reply) for reply in replies]
    )


# --- edits, deletes and reactions ------------------------------------------------------------

EmojiPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_EMOJI_LENGTH,
        pattern=EMOJI_PATTERN,
        description="One emoji, URL-encoded: 1 to 16 characters, not all ASCII, no white space, controls or '/'.",
    ),
]


class MessageEditIn(JsonBody):
    """The new text of one of your messages."""

    body: MessageBody


class ReactionsOut(Schema):
    """A message's reactions after your change."""

    room: str = Field(description="The room's slug.")
    seq: int = Field(description="The message's seq.")
    counts: dict[str, int] = Field(description="How many people put each emoji on it, in the order first used.")
    mine: list[str] = Field(description="The emoji you put on it.")


class EditorOut(Schema):
    id: int = Field(description="The user's id.")
    name: str = Field(description="The user's username.")


class MessageEditOut(Schema):
    """One earlier state of a message."""

    action: Literal["edit", "delete"] = Field(description="What replaced this body: an edit, or the delete.")
    previous_body: str = Field(description="The body the message had before.")
    edited_by: EditorOut | None = Field(description="Who edited or deleted it; null for a guest or a removed user.")
    edited_at: str = Field(description="When: ISO 8601, UTC.")


@router.patch(
    "/rooms/{slug}/messages/{seq}",
    response={200: MessageData, **error_responses(403, 404, 413)},
    operation_id="rooms_messages_edit",
    summary="Edit one of your messages",
)
def rooms_messages_edit(request: HttpRequest, slug: SlugPath, seq: SeqPath, payload: MessageEditIn) -> MessageData:
    """Replace the body of your own message and tell the room (``message_updated``). Someone else's message
    or a deleted one answers 403; the earlier body stays in the message's edit history."""
    identity = caller(request)
    body = validate_body(payload.body)
    change = message_edit(room=room_named(slug=slug), editor=identity, seq=seq, body=body)
    return MessageData(**message_state(message=change.message, reader=identity))


@router.delete(
    "/rooms/{slug}/messages/{seq}",
    response={200: MessageData, **error_responses(403, 404)},
    operation_id="rooms_messages_delete",
    summary="Delete a message",
)
def rooms_messages_delete(request: HttpRequest, slug: SlugPath, seq: SeqPath) -> MessageData:
    """Delete your own message, or any message of a room you own or moderate (staff: any room). It keeps
    its seq and answers with ``deleted`` true and an empty body; deleting it again changes nothing."""
    identity = caller(request)
    change = message_delete(room=room_named(slug=slug), actor=identity, seq=seq)
    return MessageData(**message_state(message=change.message, reader=identity))


def _react(request: HttpRequest, slug: str, seq: int, emoji: str, *, on: bool) -> ReactionsOut:
    identity = caller(request)
    state = reaction_set(room=room_named(slug=slug), user=identity, seq=seq, emoji=emoji, on=on)
    return ReactionsOut(room=slug, seq=seq, counts=state.counts, mine=state.mine(identity.user_id))


@router.put(
    "/rooms/{slug}/messages/{seq}/reactions/{emoji}",
    response={200: ReactionsOut, **error_responses(403, 404)},
    operation_id="rooms_reactions_add",
    summary="Add your reaction to a message",
)
def rooms_reactions_add(request: HttpRequest, slug: SlugPath, seq: SeqPath, emoji: EmojiPath) -> ReactionsOut:
    """Put an emoji on a message (doing it twice changes nothing). A message takes at most 20 different
    emoji (400 after that); a deleted message takes none (403)."""
    return _react(request, slug, seq, emoji, on=True)


@router.delete(
    "/rooms/{slug}/messages/{seq}/reactions/{emoji}",
    response={200: ReactionsOut, **error_responses(403, 404)},
    operation_id="rooms_reactions_remove",
    summary="Remove your reaction from a message",
)
def rooms_reactions_remove(request: HttpRequest, slug: SlugPath, seq: SeqPath, emoji: EmojiPath) -> ReactionsOut:
    """Take your emoji off a message (nothing to do if it was not there)."""
    return _react(request, slug, seq, emoji, on=False)


@router.get(
    "/rooms/{slug}/messages/{seq}/edits",
    response={200: list[MessageEditOut], **error_responses(403, 404)},
    operation_id="rooms_messages_edits",
    summary="Read a message's edit history (moderators)",
)
def rooms_messages_edits(request: HttpRequest, slug: SlugPath, seq: SeqPath) -> list[MessageEditOut]:
    """Every earlier body of a message, oldest first, with who replaced it and when: for the room's owners
    and moderators, and staff (403 for everyone else)."""
    identity = caller(request)
    room = room_for_reader(slug=slug, identity=identity)
    return [
        MessageEditOut(
            action=edit.action,  # type: ignore[arg-type]
            previous_body=edit.previous_body,
            edited_by=None if (by := edit.edited_by) is None else EditorOut(id=by.pk, name=by.get_username()),
            edited_at=iso_time(edit.edited_at) or "",
        )
        for edit in message_edits(room=room, seq=seq, reader=identity)
    ]
