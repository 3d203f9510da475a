"""Reads of the chat domain. Every read that a client asks for goes through an access rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, IntegerField, Min, Q, QuerySet, Value, When
from django.db.models.functions import Lower

from parley.accounts.identity import Identity
from parley.accounts.permissions import MODERATE_ALL_ROOMS
from parley.accounts.users import name_lookup
from parley.rooms.access import RoomAccessError, check_can_read, readable_rooms, room_not_found
from parley.rooms.attachments import attachments_of
from parley.rooms.models import Membership, Message, MessageEdit, Reaction, Room
from parley.wire.serializers import message_data


def room_get(*, slug: str) -> Room | None:
    """The room with this slug, or None."""
    return Room.objects.filter(slug=slug).first()


def room_named(*, slug: str) -> Room:
    """The room with this slug, or raise ``RoomAccessError`` (not_found); no access check: for a
    service that checks the rule its action needs (posting, for edits and reactions) itself."""
    room = room_get(slug=slug)
    if room is None:
        raise room_not_found(slug)
    return room


def room_for_reader(*, slug: str, identity: Identity) -> Room:
    """The room ``identity`` may read, or raise ``RoomAccessError``."""
    room = room_get(slug=slug)
    if room is None:
        raise room_not_found(slug)
    check_can_read(room=room, identity=identity)
    return room


def rooms_visible(*, identity: Identity, include_direct: bool = True) -> list[Room]:
    """The rooms ``identity`` may read (``readable_rooms``), for the room list; without
    ``include_direct``, leave out the private rooms of direct conversations (the web UI lists those
    apart, by the other person)."""
    rooms = readable_rooms(identity=identity)
    if not include_direct:
        rooms = rooms.filter(direct_conversation__isnull=True)
    return list(rooms)


def _messages(room: Room) -> QuerySet[Message]:
    return Message.objects.filter(room=room).select_related("author", "room")


@dataclass(frozen=True)
class MessageReactions:
    """A message's reaction counts (in the order each emoji was first used) and the reader's own emoji."""

    counts: dict[str, int]
    mine: list[str]


def reactions_of(*, message_ids: list[int], reader_id: int | None = None) -> dict[int, MessageReactions]:
    """The reactions of these messages, by message id, in one query (messages without any are absent).

    With ``reader_id``, ``mine`` lists that user's emoji on each message.
    """
    if not message_ids:
        return {}
    rows = (
        Reaction.objects.filter(message_id__in=message_ids)
        .values("message_id", "emoji")
        .annotate(count=Count("id"), first=Min("id"), by_reader=Count("id", filter=Q(user_id=reader_id)))
        .order_by("message_id", "first")
    )
    found: dict[int, MessageReactions] = {}
    for row in rows:
        entry = found.setdefault(row["message_id"], MessageReactions(counts={}, mine=[]))
        entry.counts[row["emoji"]] = row["count"]
        if row["by_reader"]:
            entry.mine.append(row["emoji"])
    return found


def _page(rows: Iterable[Message], reader: Identity | None = None) -> list[dict[str, Any]]:
    """Messages in their wire shape with their current reactions and attachments: one query for
    the whole page's reactions, and one for its attachments when any of its messages has some."""
    messages = list(rows)
    live = [message.pk for message in messages if message.deleted_at is None]
    reactions = reactions_of(message_ids=live, reader_id=None if reader is None else reader.user_id)
    with_files = [message.pk for message in messages if message.has_attachments and message.deleted_at is None]
    files = attachments_of(message_ids=with_files)
    empty = MessageReactions(counts={}, mine=[])
    page = []
    for message in messages:
        found = reactions.get(message.pk, empty)
        page.append(message_data(message, found.counts, found.mine, files.get(message.pk)))
    return page


def message_wire(message: Message) -> dict[str, Any]:
    """A stored message in its wire shape, with its attachments (read only if it has some), without
    reactions: what a webhook delivers about a new message."""
    files = attachments_of(message_ids=[message.pk]) if message.has_attachments else {}
    return message_data(message, attachments=files.get(message.pk))


def thread_page(
    *, room: Room, seq: int, before: int | None, limit: int, reader: Identity | None = None
) -> list[dict[str, Any]]:
    """A thread: its original (message ``seq``) first, then up to ``limit`` of its replies before
    seq ``before`` (or the newest), oldest first. A reply's seq names its thread's original.
    Deleted replies are left out (they no longer count in ``thread_count`` either); a deleted
    original is there, blanked, as in the room's history.

    Raises ``RoomAccessError`` (not_found) when the room has no message ``seq``.
    """
    messages = _messages(room)
    original = messages.filter(seq=seq).first()
    if original is None:
        raise RoomAccessError("not_found", f"Room {room.slug!r} has no message {seq}.")
    if original.reply_to is not None:
        original = messages.get(seq=original.reply_to)
    replies = messages.filter(reply_to=original.seq, deleted_at__isnull=True)
    if before is not None:
        replies = replies.filter(seq__lt=before)
    page = list(replies.order_by("-seq")[:limit])
    page.reverse()
    return _page([original, *page], reader)


@dataclass(frozen=True)
class Replay:
    """What a subscribe with ``since`` replays: the newest missed messages, oldest first."""

    messages: list[dict[str, Any]]
    head: int
    truncated: bool


def messages_replay_for_reader(*, slug: str, reader: Identity, since: int | None, limit: int) -> Replay:
    """``messages_replay`` for a socket that has just joined the room's stream, after checking
    again that ``reader`` may read it: the check that let them subscribe may have read the room
    before a ban or before it turned private, whose news the stream would then have missed."""
    room = room_for_reader(slug=slug, identity=reader)
    return messages_replay(room=room, since=since, limit=limit, reader=reader)


def messages_replay(*, room: Room, since: int | None, limit: int, reader: Identity | None = None) -> Replay:
    """The messages after ``since`` (at most the newest ``limit`` of them) and the room's head,
    as they are now (edited, deleted, with their reactions and ``reader``'s own).

    Without ``since`` nothing is replayed. When more than ``limit`` were missed, the newest
    ``limit`` are returned, so that the connection's stream has no gap from there on; the older
    ones can be paged in with ``history``.
    """
    head = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
    if since is None or since >= head:
        return Replay(messages=[], head=head, truncated=False)
    start = max(since, head - limit)
    rows = _messages(room).filter(seq__gt=start, seq__lte=head).order_by("seq")
    return Replay(messages=_page(rows, reader), head=head, truncated=start > since)


def messages_before(
    *, room: Room, before: int | None, limit: int, reader: Identity | None = None
) -> list[dict[str, Any]]:
    """A page of up to ``limit`` messages older than seq ``before`` (or the newest), oldest first;
    ``mine`` in each is ``reader``'s own reactions."""
    rows = _messages(room)
    if before is not None:
        rows = rows.filter(seq__lt=before)
    page = list(rows.order_by("-seq")[:limit])
    page.reverse()
    return _page(page, reader)


def messages_between(*, room_id: int, after: int, upto: int) -> list[dict[str, Any]]:
    """Messages with ``after`` < seq <= ``upto``, oldest first: how the hub repairs a gap."""
    rows = Message.objects.filter(room_id=room_id, seq__gt=after, seq__lte=upto).select_related("author", "room")
    return _page(rows.order_by("seq"))


def room_head(*, room_id: int) -> int:
    """The seq of a room's newest stored message (0 for an empty room)."""
    return Room.objects.values_list("last_seq", flat=True).get(pk=room_id)


def room_heads(*, room_ids: list[int]) -> dict[int, int]:
    """The newest seq of each of these rooms, in one query."""
    return dict(Room.objects.filter(pk__in=room_ids).values_list("pk", "last_seq"))


def messages_after(
    *, room: Room, after: int, before: int | None = None, limit: int, reader: Identity | None = None
) -> list[dict[str, Any]]:
    """A page of up to ``limit`` messages with seq above ``after`` (and below ``before``), oldest first.

    Paging forward: the next page starts after the last seq of this one.
    """
    rows = _messages(room).filter(seq__gt=after)
    if before is not None:
        rows = rows.filter(seq__lt=before)
    return _page(rows.order_by("seq")[:limit], reader)


def membership_roles(*, user_id: int | None, room_ids: list[int]) -> dict[int, str]:
    """The user's role in each of these rooms they belong to, by room id, in one query."""
    if user_id is None:
        return {}
    rows = Membership.objects.filter(user_id=user_id, room_id__in=room_ids).values_list("room_id", "role")
    return dict(rows)


@dataclass(frozen=True, slots=True)
class Member:
    """A member of a room as the member list shows them: the user's id and name, and their role."""

    id: int
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class MembersPage:
    """The first members of a room, and how many it has in all."""

    members: list[Member]
    total: int


def room_members_page(*, room: Room, limit: int) -> MembersPage:
    """Up to ``limit`` members of ``room``, owners first, then moderators, then by name, and the
    number of members: one query, and a count when there are more (a 10,000-member room lists
    ``limit`` of them, not 10,000)."""
    rank = Case(
        When(role=Membership.Role.OWNER, then=Value(0)),
        When(role=Membership.Role.MODERATOR, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    memberships = Membership.objects.filter(room=room)
    name = name_lookup(through="user")
    rows = (
        memberships.annotate(rank=rank, folded=Lower(name))
        .order_by("rank", "folded", "user_id")
        .values_list("user_id", name, "role")[:limit]
    )
    members = [Member(id=user_id, name=name, role=role) for user_id, name, role in rows]
    total = len(members) if len(members) < limit else memberships.count()
    return MembersPage(members=members, total=total)


def is_moderator(*, room: Room, identity: Identity) -> bool:
    """Whether ``identity`` may moderate ``room``: holders of ``parley.moderate_all_rooms`` (staff,
    by default), or the room's owner or a moderator of it."""
    if identity.can(MODERATE_ALL_ROOMS):
        return True
    if identity.user is None:
        return False
    moderators = (Membership.Role.OWNER, Membership.Role.MODERATOR)
    return Membership.objects.filter(room=room, user=identity.user, role__in=moderators).exists()


def message_edits(*, room: Room, seq: int, reader: Identity) -> list[MessageEdit]:
    """The edit history of message ``seq`` (oldest first), for the room's moderators and staff.

    Raises ``RoomAccessError``: not_found for a room ``reader`` cannot read or a seq with no
    message, forbidden for anyone who does not moderate the room.
    """
    check_can_read(room=room, identity=reader)
    message = Message.objects.filter(room=room, seq=seq).first()
    if message is None:
        raise RoomAccessError("not_found", f"Room {room.slug!r} has no message {seq}.")
    if not is_moderator(room=room, identity=reader):
        raise RoomAccessError("forbidden", "Only the room's owners, moderators and staff can read edit histories.")
    return list(message.edits.select_related("edited_by").order_by("edited_at", "id"))


def message_state(*, message: Message, reader: Identity | None = None) -> dict[str, Any]:
    """One message in its wire shape as it is now, with its reactions and ``reader``'s own."""
    return _page([message], reader)[0]
