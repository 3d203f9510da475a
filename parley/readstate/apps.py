from __future__ import annotations

from django.apps import AppConfig


class ReadStateConfig(AppConfig):
    """Read markers: how far each user has read in each room, and the unread counts that follow."""

    name = "parley.readstate"
    label = "readstate"
    verbose_name = "Read state"
