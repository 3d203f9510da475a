"""How a ``mention`` notification reads and where it leads: Parley's own kind, registered in the
notification kinds registry (``parley.notifications.kinds``) the way a host registers its own."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from parley.notifications import kinds

MENTION = "mention"


def mention_text(data: dict[str, Any]) -> str:
    """``ann mentioned you in #lobby: …``; a mention whose room the recipient may no longer read
    comes without its room, author or excerpt (``{withheld: true}``)."""
    if data.get("withheld"):
        return "A mention in a room you can no longer read."
    guest = " (guest)" if data.get("author_guest") else ""
    return f"{data['author']}{guest} mentioned you in #{data['room']}: {data.get('excerpt') or ''}"


def mention_url(data: dict[str, Any]) -> str | None:
    """The room's page, or no link when the room is withheld."""
    if data.get("withheld"):
        return None
    return reverse("parley:room", kwargs={"slug": data["room"]})


def mention_kind_register() -> None:
    """Register the ``mention`` kind (``ParleyConfig.ready``)."""
    kinds.register(MENTION, text=mention_text, url=mention_url)
