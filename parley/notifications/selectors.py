"""Reads of notifications. A user only ever reads their own, and of a notification about a room
only what they may still read: once the room is taken from them (a ban, a removal, the room made
private), its data is withheld wherever it is listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Max, QuerySet

from parley.notifications.kinds import notification_described
from parley.notifications.models import Notification
from parley.rooms.access import readable_by_user_id
from parley.rooms.models import Room
from parley.wire.serializers import notification_data

# Kinds whose data is about a message in a room, named by its slug in ``data.room``: Parley's own
# @mentions ({room, seq, message_id, author, excerpt}). Other kinds' data is the host project's.
ROOM_KINDS = frozenset({"mention"})
# What a notification about a room the recipient may no longer read carries instead of its data.
WITHHELD: dict[str, Any] = {"withheld": True}


def _inbox(user_id: int) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient_id=user_id)


def notifications_withheld(*, user_id: int, rows: Iterable[Notification]) -> set[int]:
    """The ids of those of the user's notifications ``rows`` whose room the user may no longer read
    (``readable_rooms``); one query, and none when no row is about a room."""
    about: dict[int, str] = {
        row.pk: row.data["room"]
        for row in rows
        if row.kind in ROOM_KINDS and isinstance(row.data, dict) and isinstance(row.data.get("room"), str)
    }
    if not about:
        return set()
    readable = Room.objects.filter(readable_by_user_id(user_id), slug__in=set(about.values()))
    slugs = set(readable.values_list("slug", flat=True))
    return {notification_id for notification_id, slug in about.items() if slug not in slugs}


def notification_shown(row: Notification, *, withheld: bool = False) -> dict[str, Any]:
    """``row`` in wire shape, worded and linked by its kind (``kinds``); ``withheld``: without
    the data of a room its recipient may no longer read."""
    data = dict(WITHHELD) if withheld else row.data
    return notification_data(row, data=data, **notification_described(row.kind, data))


def _shown(user_id: int, rows: Iterable[Notification]) -> list[dict[str, Any]]:
    """``rows`` in wire shape, as their recipient may see them now."""
    rows = list(rows)
    withheld = notifications_withheld(user_id=user_id, rows=rows)
    return [notification_shown(row, withheld=row.pk in withheld) for row in rows]


def notifications_unread_count(*, user_id: int) -> int:
    """How many of the user's notifications are unread."""
    return _inbox(user_id).filter(read_at__isnull=True).count()


def notifications_since(*, user_id: int, since: int | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The user's notifications after id ``since`` (all when None), oldest first, in wire shape.

    At most ``limit`` are returned: the newest ones, so that what follows live continues without
    a gap. The flag says whether older ones were left out.
    """
    rows = _inbox(user_id)
    if since is not None:
        rows = rows.filter(id__gt=since)
    newest = list(rows.order_by("-id")[: limit + 1])
    truncated = len(newest) > limit
    return _shown(user_id, reversed(newest[:limit])), truncated


def notifications_page(
    *, user_id: int, before: int | None = None, limit: int = 50, unread_only: bool = False
) -> list[dict[str, Any]]:
    """A page of the user's notifications, newest first (the bell's list and the API)."""
    rows = _inbox(user_id)
    if before is not None:
        rows = rows.filter(id__lt=before)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return _shown(user_id, rows.order_by("-id")[:limit])


def notifications_newest_ids(*, user_ids: list[int]) -> dict[int, int]:
    """Each user's newest notification id (users without any are left out)."""
    rows = Notification.objects.filter(recipient_id__in=user_ids).values("recipient_id").annotate(newest=Max("id"))
    return {row["recipient_id"]: row["newest"] for row in rows}


def notifications_after(*, user_id: int, after: int, limit: int = 1000) -> list[dict[str, Any]]:
    """The user's notifications with an id above ``after``, oldest first, in wire shape."""
    return _shown(user_id, _inbox(user_id).filter(id__gt=after).order_by("id")[:limit])
