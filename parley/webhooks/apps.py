from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outgoing webhooks per room, their deliveries and every attempt."""

    name = "parley.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
