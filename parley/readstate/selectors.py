"""Reads of read state: unread counts for the room list and for one room, and the room list itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from parley.accounts.identity import Identity
from parley.accounts.users import User
from parley.direct.selectors import direct_conversations
from parley.readstate.models import ReadMarker
from parley.rooms.access import readable_by_user_id
from parley.rooms.models import Message, Room
from parley.rooms.selectors import rooms_visible

# Only the newest this many messages of a room are counted. A room a user never opened counts
# from seq 1, and counting a 100,000-message room for each of 200 rooms on every room list would
# read millions of index entries; past this many, the list shows "99+" whatever the exact figure.
UNREAD_WINDOW = 1000


@dataclass(frozen=True, slots=True)
class Unread:
    """A user's unread state in one room."""

    count: int
    last_read: int


def unread_counts(*, user_id: int, room_ids: list[int]) -> dict[int, Unread]:
    """The ``Unread`` state (count, last_read) of each of these rooms, by room id, in one query.

    ``count`` is the number of messages after the user's read marker that are neither the user's
    own (you have read what you wrote) nor deleted (there is nothing left to read), among the room's
    newest ``UNREAD_WINDOW`` messages. A room without a marker has ``last_read`` 0. Rooms that do
    not exist, and rooms the user may not read (``readable_rooms``: banned, removed, made private),
    are absent: a count is something of the room too.
    """
    if not room_ids:
        return {}
    marker = ReadMarker.objects.filter(user_id=user_id, room_id=OuterRef("pk")).values("last_read")[:1]
    unread = (
        Message.objects.filter(room_id=OuterRef("pk"), seq__gt=OuterRef("counted_after"), deleted_at__isnull=True)
        .exclude(author_id=user_id)
        .order_by()
        .values("room_id")
        .annotate(unread=Count("*"))
        .values("unread")
    )
    rows = (
        Room.objects.filter(readable_by_user_id(user_id), pk__in=room_ids)
        .annotate(read_upto=Coalesce(Subquery(marker), Value(0), output_field=IntegerField()))
        .annotate(counted_after=Greatest(F("read_upto"), F("last_seq") - UNREAD_WINDOW))
        .annotate(unread=Coalesce(Subquery(unread), Value(0), output_field=IntegerField()))
        .order_by()
        .values_list("pk", "unread", "read_upto")
    )
    return {room_id: Unread(count=count, last_read=last_read) for room_id, count, last_read in rows}


def unread_count(*, user_id: int, room_id: int) -> Unread:
    """``(count, last_read)`` of one room, as ``unread_counts`` counts them (a missing room, or one
    the user may not read: 0, 0)."""
    return unread_counts(user_id=user_id, room_ids=[room_id]).get(room_id, Unread(count=0, last_read=0))


@dataclass(frozen=True, slots=True)
class RoomEntry:
    """A room on the room list, with the reader's unread state there (None for guests)."""

    room: Room
    unread: Unread | None


@dataclass(frozen=True, slots=True)
class DirectEntry:
    """A direct conversation on the room list: its room, the other person, when it last moved, and
    the reader's unread state there."""

    room: Room
    other: User
    last_activity: datetime
    unread: Unread


@dataclass(frozen=True, slots=True)
class RoomList:
    """What the web UI's room list shows: the rooms ``identity`` may enter (by slug) and, apart,
    their direct conversations (newest activity first)."""

    rooms: list[RoomEntry]
    directs: list[DirectEntry]


def room_list(*, identity: Identity) -> RoomList:
    """The rooms ``identity`` may enter and their direct conversations, each with its unread state.

    Three queries whatever the number of rooms: the rooms, the conversations, and every unread
    count at once (and, the first time an identity is asked whether it reads every room, Django's
    permission lookup). A direct conversation is never also listed as a room (staff, who may enter
    everyone's, see only their own). Guests have no read markers and no conversations.
    """
    rooms = rooms_visible(identity=identity, include_direct=False)
    if identity.user is None:
        return RoomList(rooms=[RoomEntry(room=room, unread=None) for room in rooms], directs=[])
    directs = direct_conversations(user=identity.user)
    room_ids = [room.pk for room in rooms] + [row.conversation.room_id for row in directs]
    unread = unread_counts(user_id=int(identity.user.pk), room_ids=room_ids)
    nothing = Unread(count=0, last_read=0)
    return RoomList(
        rooms=[RoomEntry(room=room, unread=unread.get(room.pk, nothing)) for room in rooms],
        directs=[
            DirectEntry(
                room=row.conversation.room,
                other=row.other,
                last_activity=row.last_activity,
                unread=unread.get(row.conversation.room_id, nothing),
            )
            for row in directs
        ],
    )
