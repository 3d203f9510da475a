"""An order of the demo shop. Models hold data; ``orders.services`` changes them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models


class Order(models.Model):
    """A customer's order: what was bought (``items``), the ``total``, and where it stands."""

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACED)
    # [{"name": str, "quantity": int, "price": "12.50"}]: prices as strings, so no float rounds them.
    items = models.JSONField(default=list, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Order #{self.pk}"
