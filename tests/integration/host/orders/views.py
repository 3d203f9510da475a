"""The host's own pages: a home page with Parley's bell, and an action that notifies its user."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from parley.notifications.services import notify


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/home.html")


@login_required
@require_POST
def ship(request: HttpRequest) -> HttpResponse:
    [notification] = notify(users=[request.user], kind="order.status", data={"order_id": 7, "status": "shipped"})
    return JsonResponse({"notification": notification.pk})
