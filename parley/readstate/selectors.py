"""Reads of read state: unread counts for the room list and for one room."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from parley.readstate.models import ReadMarker
from parley.rooms.models import Message, Room

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
    not exist are absent.
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
        Room.objects.filter(pk__in=room_ids)
        .annotate(read_upto=Coalesce(Subquery(marker), Value(0), output_field=IntegerField()))
        .annotate(counted_after=Greatest(F("read_upto"), F("last_seq") - UNREAD_WINDOW))
        .annotate(unread=Coalesce(Subquery(unread), Value(0), output_field=IntegerField()))
        .order_by()
        .values_list("pk", "unread", "read_upto")
    )
    return {room_id: Unread(count=count, last_read=last_read) for room_id, count, last_read in rows}


def unread_count(*, user_id: int, room_id: int) -> Unread:
    """``(count, last_read)`` of one room, as ``unread_counts`` counts them (a missing room: 0, 0)."""
    return unread_counts(user_id=user_id, room_ids=[room_id]).get(room_id, Unread(count=0, last_read=0))
