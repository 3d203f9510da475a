"""Reads of notifications. A user only ever reads their own."""

from __future__ import annotations

from typing import Any

from django.db.models import Max, QuerySet

from parley.notifications.models import Notification
from parley.realtime.protocol import notification_data


def _inbox(user_id: int) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient_id=user_id)


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
    return [notification_data(row) for row in reversed(newest[:limit])], truncated


def notifications_page(
    *, user_id: int, before: int | None = None, limit: int = 50, unread_only: bool = False
) -> list[dict[str, Any]]:
    """A page of the user's notifications, newest first (the bell's list and the API)."""
    rows = _inbox(user_id)
    if before is not None:
        rows = rows.filter(id__lt=before)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return [notification_data(row) for row in rows.order_by("-id")[:limit]]


def notifications_newest_ids(*, user_ids: list[int]) -> dict[int, int]:
    """Each user's newest notification id (users without any are left out)."""
    rows = Notification.objects.filter(recipient_id__in=user_ids).values("recipient_id").annotate(newest=Max("id"))
    return {row["recipient_id"]: row["newest"] for row in rows}


def notifications_after(*, user_id: int, after: int, limit: int = 1000) -> list[dict[str, Any]]:
    """The user's notifications with an id above ``after``, oldest first, in wire shape."""
    rows = _inbox(user_id).filter(id__gt=after).order_by("id")[:limit]
    return [notification_data(row) for row in rows]
