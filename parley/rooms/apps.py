from __future__ import annotations

from django.apps import AppConfig


class RoomsConfig(AppConfig):
    """The chat domain: rooms, memberships and stored messages."""

    name = "parley.rooms"
    label = "rooms"
    verbose_name = "Rooms and messages"
