"""Reads of the demo shop."""

from __future__ import annotations

from django.db.models import QuerySet

from orders.models import Order


def orders_of_user(*, user_id: int) -> QuerySet[Order]:
    """A user's orders, newest first."""
    return Order.objects.filter(user_id=user_id).order_by("-id")


def order_for_viewer(*, order_id: int, user_id: int, is_staff: bool = False) -> Order | None:
    """The order if this viewer may see it (its owner, or staff); None otherwise."""
    order = Order.objects.select_related("user").filter(pk=order_id).first()
    if order is None or (order.user_id != user_id and not is_staff):
        return None
    return order
