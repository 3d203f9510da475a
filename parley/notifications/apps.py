from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Stored notifications for users, pushed live to every socket they have open."""

    name = "parley.notifications"
    label = "notifications"
    verbose_name = "Notifications"
