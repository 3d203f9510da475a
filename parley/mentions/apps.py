from __future__ import annotations

from django.apps import AppConfig


class MentionsConfig(AppConfig):
    """@username mentions: notifications, and e-mails to users who were away."""

    name = "parley.mentions"
    label = "mentions"
    verbose_name = "Mentions"
