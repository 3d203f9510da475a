"""Raising notifications and marking them read.

``notify`` is the one way any code — Parley's own services, a Django project's models, a worker,
the HTTP API — tells users something. It stores the notifications and, once the transaction
commits, pushes each one to its recipient's user group through ``parley.events.publish``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from parley.events.publish import publish_notification_on_commit, publish_unread_on_commit
from parley.notifications.links import link_allowed, link_rule
from parley.notifications.models import Notification
from parley.notifications.selectors import notification_shown, notifications_unread_count
from parley.wire.errors import ParleyError

KIND_MAX_LENGTH = 64


class NotificationError(ParleyError):
    """A notification that cannot be raised as asked (``invalid``: an empty kind, data that is not an
    object, a ``data.url`` that leads off the site)."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid", detail)


@transaction.atomic
def notify(
    users: Iterable[AbstractBaseUser | int], kind: str, data: dict[str, Any] | None = None
) -> list[Notification]:
    """Store a ``kind`` notification with ``data`` for each of ``users`` and push it to them.

    ``users`` may be user objects or ids; a user named twice is notified once. Every open socket of
    each recipient receives a ``notification`` frame after the transaction commits (never before,
    so a rolled-back change is never announced), followed by its new unread count. A ``url`` in
    ``data`` (the bell's link) must be a path on this site or on an allowed origin (``links.py``).
    """
    kind = kind.strip()
    if not kind or len(kind) > KIND_MAX_LENGTH:
        raise NotificationError(f"A notification kind is 1 to {KIND_MAX_LENGTH} characters, e.g. 'order.status'.")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise NotificationError("A notification's data must be a JSON object.")
    if "url" in data and not link_allowed(data["url"]):
        raise NotificationError(link_rule())
    user_ids = sorted({user if isinstance(user, int) else int(user.pk) for user in users})
    # Locking the recipients (in id order, so two calls never deadlock) makes each recipient's
    # notification ids grow in commit order: a client resuming after id N can miss nothing.
    locked = list(
        get_user_model().objects.select_for_update().filter(pk__in=user_ids).order_by("pk").values_list("pk", flat=True)
    )
    created = []
    for user_id in locked:
        notification = Notification.objects.create(recipient_id=user_id, kind=kind, data=data)
        publish_notification_on_commit(
            user_id=user_id,
            notification=notification_shown(notification),
            unread=notifications_unread_count(user_id=user_id),
        )
        created.append(notification)
    return created


anotify = database_sync_to_async(notify)
"""``notify`` for async code (consumers, async views): ``await anotify(users, kind, data)``."""


@transaction.atomic
def notifications_mark_read(*, user_id: int, ids: Iterable[int] = (), everything: bool = False) -> int:
    """Mark the user's notifications ``ids`` (or ``everything``) read; return the unread count left.

    Ids that are not the user's, or already read, are ignored. Every open socket of the user is
    told the new count, so all of their tabs stay in step.
    """
    unread = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
    if not everything:
        unread = unread.filter(id__in=list(ids))
    changed = unread.update(read_at=timezone.now())
    count = notifications_unread_count(user_id=user_id)
    if changed:
        publish_unread_on_commit(user_id=user_id, unread=count)
    return count
