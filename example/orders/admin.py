"""Orders in the admin. A status changed here goes through ``order_set_status`` (so the owner is
notified, live), never through a bare ``save()``; everything else about an order is read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from orders.models import Order
from orders.services import OrderError, check_status_change, order_set_status


class OrderStatusForm(forms.ModelForm[Order]):
    """The admin's change form: only the status, checked against the allowed transitions."""

    class Meta:
        model = Order
        fields = ["status"]

    def clean_status(self) -> str:
        status: str = self.cleaned_data["status"]
        if self.instance.pk is not None and status != self.initial.get("status"):
            try:
                check_status_change(current=str(self.initial.get("status")), status=status)
            except OrderError as error:
                raise forms.ValidationError(str(error)) from None
        return status


def _status_action(status: str) -> Any:
    def action(modeladmin: OrderAdmin, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        changed = 0
        for order in queryset:
            try:
                order_set_status(order=order, status=status)
            except OrderError as error:
                modeladmin.message_user(request, f"Order #{order.pk}: {error}", messages.WARNING)
            else:
                changed += 1
        if changed:
            modeladmin.message_user(request, f"{changed} order(s) marked {status}; their owners were notified.")

    action.__name__ = f"mark_{status}"
    return admin.action(description=f"Mark selected orders {status}")(action)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    form = OrderStatusForm
    list_display = ["id", "user", "status", "total", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "items", "total", "created_at", "updated_at"]
    actions = [_status_action(status) for status in Order.Status.values if status != Order.Status.PLACED]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed in the shop (orders.services.order_place)

    def save_model(self, request: HttpRequest, obj: Order, form: forms.ModelForm[Order], change: bool) -> None:
        """Called when the change form is saved: a new status goes through the service."""
        if change and "status" in form.changed_data:
            order_set_status(order=obj, status=obj.status)
