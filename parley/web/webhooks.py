"""The room settings page's webhooks panel: owners and staff add, pause, resume and delete them.

Thin views over ``parley.webhooks``' services, which check who may; every refusal is shown as the
service's sentence.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from parley.accounts.identity import user_identity
from parley.web.forms import WebhookActionForm, WebhookAddForm
from parley.web.moderation import moderated_room, signed_in_user
from parley.webhooks.selectors import webhook_of_room
from parley.webhooks.services import (
    check_can_manage_webhooks,
    webhook_create,
    webhook_delete,
    webhook_set_active,
)
from parley.wire.errors import ParleyError


@login_required
@require_POST
def room_webhook_add(request: HttpRequest, slug: str) -> HttpResponse:
    """Register a webhook from the settings page's form."""
    room = moderated_room(request, slug)
    form = WebhookAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the receiver's full URL and a secret of 16 to 200 characters.")
        return redirect("parley:room-settings", slug=room.slug)
    identity = user_identity(signed_in_user(request))
    try:
        webhook = webhook_create(
            room=room, identity=identity, url=form.cleaned_data["url"], secret=form.cleaned_data["secret"]
        )
    except ParleyError as refused:
        messages.error(request, refused.detail)
    else:
        messages.success(request, f"Every new message of #{room.slug} is now POSTed to {webhook.url}.")
    return redirect("parley:room-settings", slug=room.slug)


@login_required
@require_POST
def room_webhook_change(request: HttpRequest, slug: str, webhook_id: int) -> HttpResponse:
    """Pause, resume or delete one of the room's webhooks."""
    room = moderated_room(request, slug)
    form = WebhookActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether to pause, resume or delete the webhook.")
        return redirect("parley:room-settings", slug=room.slug)
    try:
        check_can_manage_webhooks(room=room, identity=user_identity(signed_in_user(request)))
    except ParleyError as refused:
        messages.error(request, refused.detail)
        return redirect("parley:room-settings", slug=room.slug)
    webhook = webhook_of_room(room_id=room.pk, webhook_id=webhook_id)
    if webhook is None:
        messages.error(request, f"#{room.slug} has no such webhook any more.")
        return redirect("parley:room-settings", slug=room.slug)
    action = form.cleaned_data["action"]
    if action == "delete":
        webhook_delete(webhook=webhook)
        messages.success(request, f"The webhook to {webhook.url} is deleted.")
        return redirect("parley:room-settings", slug=room.slug)
    try:
        webhook_set_active(webhook=webhook, active=action == "resume")
    except ParleyError as refused:
        messages.error(request, refused.detail)
    else:
        messages.success(request, f"The webhook to {webhook.url} is {'resumed' if action == 'resume' else 'paused'}.")
    return redirect("parley:room-settings", slug=room.slug)
