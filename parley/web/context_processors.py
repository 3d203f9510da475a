"""What every page's template needs besides the view's own context."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from parley.notifications.links import link_origins
from parley.notifications.selectors import notifications_page, notifications_unread_count

BELL_RECENT = 10


def notification_bell(request: HttpRequest) -> dict[str, Any]:
    """The bell's starting state for a signed-in user: the unread count and the newest notifications.

    The page's script goes live from here: it asks the socket for everything after the newest id
    shown, so nothing stored between rendering and connecting is missed.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    recent = notifications_page(user_id=user.pk, limit=BELL_RECENT)
    unread = notifications_unread_count(user_id=user.pk)
    # The origins besides this one that a notification may link to: the script checks every link.
    return {"bell": {"unread": unread, "recent": recent, "link_origins": link_origins()}}
