from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.urls import reverse


def order_status_url(data: dict[str, Any]) -> str:
    """The order's page: where an ``order.status`` notification leads."""
    return reverse("order-detail", kwargs={"order_id": data["order_id"]})


class OrdersConfig(AppConfig):
    """The demo shop's orders (the article's example), notifying owners of status changes."""

    name = "orders"
    label = "orders"
    verbose_name = "Orders (demo shop)"

    def ready(self) -> None:
        """Tell Parley's bell how an ``order.status`` notification reads and where it leads, as any
        project does for its own kinds."""
        from orders.services import ORDER_STATUS
        from parley.notifications import kinds

        kinds.register(ORDER_STATUS, text="Order #{order_id} is now {status}.", url=order_status_url)
