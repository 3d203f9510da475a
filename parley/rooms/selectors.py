"""Reads of the chat domain. Every read that a client asks for goes through an access rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from parley.accounts.identity import Identity
from parley.realtime.protocol import message_data
from parley.rooms.access import check_can_read, guests_may_use, room_not_found
from parley.rooms.models import Membership, Message, Room


def room_get(*, slug: str) -> Room | None:
    """The room with this slug, or None."""
    return Room.objects.filter(slug=slug).first()


def room_for_reader(*, slug: str, identity: Identity) -> Room:
    """The room ``identity`` may read, or raise ``RoomAccessError``."""
    room = room_get(slug=slug)
    if room is None:
        raise room_not_found(slug)
    check_can_read(room=room, identity=identity)
    return room


def rooms_visible(*, identity: Identity) -> list[Room]:
    """The rooms ``identity`` may enter, for the room list."""
    rooms: QuerySet[Room] = Room.objects.all()
    if identity.is_staff:
        return list(rooms)
    if identity.user is None:
        return [room for room in rooms.filter(is_private=False, guests_allowed=True) if guests_may_use(room)]
    return list(rooms.filter(Q(is_private=False) | Q(memberships__user_id=identity.user_id)).distinct())


def _messages(room: Room) -> QuerySet[Message]:
    return Message.objects.filter(room=room).select_related("author", "room")


@dataclass(frozen=True)
class Replay:
    """What a subscribe with ``since`` replays: the newest missed messages, oldest first."""

    messages: list[dict[str, Any]]
    head: int
    truncated: bool


def messages_replay(*, room: Room, since: int | None, limit: int) -> Replay:
    """The messages after ``since`` (at most the newest ``limit`` of them) and the room's head.

    Without ``since`` nothing is replayed. When more than ``limit`` were missed, the newest
    ``limit`` are returned, so that the connection's stream has no gap from there on; the older
    ones can be paged in with ``history``.
    """
    head = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
    if since is None or since >= head:
        return Replay(messages=[], head=head, truncated=False)
    start = max(since, head - limit)
    rows = _messages(room).filter(seq__gt=start, seq__lte=head).order_by("seq")
    return Replay(messages=[message_data(row) for row in rows], head=head, truncated=start > since)


def messages_before(*, room: Room, before: int | None, limit: int) -> list[dict[str, Any]]:
    """A page of up to ``limit`` messages older than seq ``before`` (or the newest), oldest first."""
    rows = _messages(room)
    if before is not None:
        rows = rows.filter(seq__lt=before)
    page = list(rows.order_by("-seq")[:limit])
    page.reverse()
    return [message_data(row) for row in page]


def messages_between(*, room_id: int, after: int, upto: int) -> list[dict[str, Any]]:
    """Messages with ``after`` < seq <= ``upto``, oldest first: how the hub repairs a gap."""
    rows = Message.objects.filter(room_id=room_id, seq__gt=after, seq__lte=upto).select_related("author", "room")
    return [message_data(row) for row in rows.order_by("seq")]


def room_head(*, room_id: int) -> int:
    """The seq of a room's newest stored message (0 for an empty room)."""
    return Room.objects.values_list("last_seq", flat=True).get(pk=room_id)


def room_heads(*, room_ids: list[int]) -> dict[int, int]:
    """The newest seq of each of these rooms, in one query."""
    return dict(Room.objects.filter(pk__in=room_ids).values_list("pk", "last_seq"))


def messages_after(*, room: Room, after: int, before: int | None = None, limit: int) -> list[dict[str, Any]]:
    """A page of up to ``limit`` messages with seq above ``after`` (and below ``before``), oldest first.

    Paging forward: the next page starts after the last seq of this one.
    """
    rows = _messages(room).filter(seq__gt=after)
    if before is not None:
        rows = rows.filter(seq__lt=before)
    return [message_data(row) for row in rows.order_by("seq")[:limit]]


def membership_roles(*, user_id: int | None, room_ids: list[int]) -> dict[int, str]:
    """The user's role in each of these rooms they belong to, by room id, in one query."""
    if user_id is None:
        return {}
    rows = Membership.objects.filter(user_id=user_id, room_id__in=room_ids).values_list("room_id", "role")
    return dict(rows)
