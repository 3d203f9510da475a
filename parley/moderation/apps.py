from __future__ import annotations

from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Bans, mutes and direct conversations: who may no longer use a room, and two-person rooms."""

    name = "parley.moderation"
    label = "moderation"
    verbose_name = "Moderation"
