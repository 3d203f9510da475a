"""``manage.py orderstatus ORDER_ID STATUS``: change an order's status from a script or a shell."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from orders.models import Order
from orders.services import order_set_status
from parley.management.base import ParleyCommand


class Command(ParleyCommand):
    help = "Move an order to a new status (its owner is notified live), e.g. `orderstatus 3 shipped`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("order_id", type=int)
        parser.add_argument("status", choices=Order.Status.values)

    def handle(self, *args: Any, **options: Any) -> None:
        order = Order.objects.filter(pk=options["order_id"]).first()
        if order is None:
            raise CommandError(f"There is no order #{options['order_id']}.")
        order = order_set_status(order=order, status=options["status"])  # an OrderError ends the command
        self.stdout.write(f"Order #{order.pk} is {order.status}")
