from __future__ import annotations

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """The demo shop's orders (the article's example), notifying owners of status changes."""

    name = "orders"
    label = "orders"
    verbose_name = "Orders (demo shop)"
