"""``/api/orders/{id}/status``: staff change an order's status through ``order_set_status``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from orders.models import Order
from orders.services import order_set_status
from parley.api.auth import caller
from parley.api.errors import error_responses
from parley.wire.errors import ParleyError

router = Router(tags=["orders (demo shop)"])


class OrderStatusIn(Schema):
    status: Literal["placed", "paid", "shipped", "delivered", "cancelled"] = Field(
        description="The new status: one the order may move to from its current one."
    )


class OrderOut(Schema):
    id: int
    user: str = Field(description="The owner's username.")
    status: str
    total: Decimal
    updated_at: datetime


@router.post("/orders/{order_id}/status", response={200: OrderOut, **error_responses(403, 404, 409)})
def order_status_set(request: HttpRequest, order_id: int, payload: OrderStatusIn) -> OrderOut:
    """Move an order to a new status; its owner is notified (``order.status``) at once. Staff only.

    A status the order cannot move to from where it is (a delivered order cancelled, say) is 409."""
    if not caller(request).is_staff:
        raise ParleyError("forbidden", "Only staff can change an order's status.")
    order = Order.objects.select_related("user").filter(pk=order_id).first()
    if order is None:
        raise ParleyError("not_found", f"There is no order #{order_id}.")
    order = order_set_status(order=order, status=payload.status)  # a refused change answers 409
    return OrderOut(
        id=order.pk, user=order.user.get_username(), status=order.status, total=order.total, updated_at=order.updated_at
    )
