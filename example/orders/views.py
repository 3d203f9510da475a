"""The shop's pages: your orders, and one order whose status changes live."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orders.models import Order
from orders.selectors import order_for_viewer, orders_of_user


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    """The signed-in user's orders."""
    assert isinstance(request.user, User)  # login_required
    orders = orders_of_user(user_id=request.user.pk)
    return render(request, "orders/order_list.html", {"orders": orders})


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    """One order; its status follows ``order.status`` notifications over the page's socket."""
    assert isinstance(request.user, User)  # login_required
    user_id = request.user.pk
    order = order_for_viewer(order_id=order_id, user_id=user_id, is_staff=request.user.is_staff)
    if order is None:
        raise Http404("There is no such order among yours.")
    # The bell's socket replays what is newer than the notifications the page was rendered with,
    # so a change made between rendering and connecting still reaches the page.
    config = {
        "orderId": order.pk,
        "status": order.status,
        "statuses": {value: str(label) for value, label in Order.Status.choices},
    }
    steps = [Order.Status.PLACED, Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED]
    context = {"order": order, "config": config, "steps": [(step.value, step.label) for step in steps]}
    return render(request, "orders/order_detail.html", context)
