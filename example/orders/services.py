"""Writes of the demo shop. ``order_set_status`` is the only way an order's status changes: the
admin, the HTTP API, the shell and management commands all call it, so every change notifies the
owner — once, after commit, with who-did-what in one readable place.

Why a service and not a ``post_save`` receiver: a receiver runs inside the transaction, before
commit (so it would announce changes that may roll back, unless it adds ``on_commit`` itself), it
hides the flow from whoever reads the code that saves, ``QuerySet.update()`` and ``bulk_update()``
skip it entirely, and it cannot tell which field changed from what, nor who changed it or why.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from orders.models import Order
from parley.notifications.services import notify
from parley.wire.errors import ParleyError

ORDER_STATUS = "order.status"

# Where an order may go from each status; delivered and cancelled orders are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Order.Status.PLACED: (Order.Status.PAID, Order.Status.CANCELLED),
    Order.Status.PAID: (Order.Status.SHIPPED, Order.Status.CANCELLED),
    Order.Status.SHIPPED: (Order.Status.DELIVERED,),
    Order.Status.DELIVERED: (),
    Order.Status.CANCELLED: (),
}


class OrderError(ParleyError):
    """An order that cannot be placed or changed as asked (``invalid``); ``detail`` says why, for people.

    A Parley refusal, so the API, the admin and ``manage.py orderstatus`` each show its sentence
    without a translation of their own."""

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__("invalid", detail, status=status)


class StatusChangeRefused(OrderError):
    """A status the order may not move to from the one it has (answered with HTTP 409)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, status=409)


def order_next_statuses(status: str) -> tuple[str, ...]:
    """The statuses an order in ``status`` may move to."""
    return TRANSITIONS.get(status, ())


def check_status_change(*, current: str, status: str) -> None:
    """Raise ``StatusChangeRefused`` unless an order may go from ``current`` to ``status``."""
    if status not in Order.Status.values:
        raise StatusChangeRefused(f"{status!r} is not an order status; use one of {', '.join(Order.Status.values)}.")
    if status == current:
        raise StatusChangeRefused(f"The order is {current} already.")
    allowed = order_next_statuses(current)
    if status not in allowed:
        where = f"only to {' or '.join(allowed)}" if allowed else "nowhere: that is final"
        raise StatusChangeRefused(f"A {current} order cannot become {status}; it can go {where}.")


@transaction.atomic
def order_set_status(*, order: Order, status: str) -> Order:
    """Move ``order`` to ``status`` and notify its owner (``order.status``, ``{order_id, status}``).

    The order row is locked and re-read, so the transition is checked against what is stored, not
    against a stale copy. The notification reaches the owner's open pages once this commits.
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    check_status_change(current=locked.status, status=status)
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    notify([locked.user_id], ORDER_STATUS, {"order_id": locked.pk, "status": status})
    order.status, order.updated_at = locked.status, locked.updated_at
    return locked


@transaction.atomic
def order_place(*, user: User, items: list[dict[str, Any]]) -> Order:
    """Place an order of ``items`` ({name, quantity, price}) for ``user``; the total is computed."""
    if not items:
        raise OrderError("An order needs at least one item.")
    clean: list[dict[str, Any]] = []
    total = Decimal("0.00")
    for item in items:
        name = str(item.get("name", "")).strip()
        quantity = int(item.get("quantity", 1))
        price = Decimal(str(item.get("price", "0"))).quantize(Decimal("0.01"))
        if not name or quantity < 1 or price < 0:
            raise OrderError("Each item needs a name, a quantity of 1 or more and a price of 0 or more.")
        clean.append({"name": name, "quantity": quantity, "price": str(price)})
        total += price * quantity
    return Order.objects.create(user=user, items=clean, total=total)


DEMO_ORDERS = (
    [{"name": "Channels in Action (paperback)", "quantity": 1, "price": "39.00"}],
    [{"name": "Parley mug", "quantity": 2, "price": "12.50"}, {"name": "Sticker pack", "quantity": 1, "price": "4.00"}],
)


@transaction.atomic
def orders_demo_create(*, user: User) -> list[Order]:
    """Give ``user`` the demo shop's two orders unless they have orders already; return their orders."""
    existing = list(Order.objects.filter(user=user).order_by("id"))
    if existing:
        return existing
    return [order_place(user=user, items=[dict(item) for item in items]) for items in DEMO_ORDERS]
