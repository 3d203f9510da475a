"""``/api/rooms/{slug}/webhooks``: register and list a room's webhooks (its owners and staff)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from parley.api.auth import caller
from parley.api.errors import ApiError, error_responses
from parley.rooms.access import room_not_found
from parley.rooms.models import Room
from parley.rooms.selectors import room_get
from parley.webhooks.models import Webhook
from parley.webhooks.selectors import webhooks_of_room
from parley.webhooks.services import (
    SECRET_MAX_LENGTH,
    SECRET_MIN_LENGTH,
    SECRET_PATTERN,
    URL_MAX_LENGTH,
    URL_PATTERN,
    WebhookError,
    check_can_manage_webhooks,
    webhook_create,
)

router = Router(tags=["webhooks"])


class WebhookIn(Schema):
    url: str = Field(
        max_length=URL_MAX_LENGTH,
        pattern=URL_PATTERN,
        description="Where each new message is POSTed: an http:// or https:// URL.",
    )
    secret: str = Field(
        min_length=SECRET_MIN_LENGTH,
        max_length=SECRET_MAX_LENGTH,
        pattern=SECRET_PATTERN,
        description="16 to 200 characters. Each POST carries X-Parley-Signature: sha256=<hex HMAC-SHA256 "
        "of the body with this secret>.",
    )


class WebhookOut(Schema):
    id: int
    room: str = Field(description="The room's slug.")
    url: str
    active: bool
    created_at: datetime


def _out(webhook: Webhook, room: Room) -> WebhookOut:
    return WebhookOut(
        id=webhook.pk, room=room.slug, url=webhook.url, active=webhook.active, created_at=webhook.created_at
    )


def _room(slug: str) -> Room:
    room = room_get(slug=slug)
    if room is None:
        raise room_not_found(slug)
    return room


@router.post("/rooms/{slug}/webhooks", response={201: WebhookOut, **error_responses(403, 404)})
def webhook_add(request: HttpRequest, slug: str, payload: WebhookIn) -> Status[WebhookOut]:
    """Register a webhook: every message stored in the room from now on is POSTed to ``url`` as JSON
    (``{"event": "message.created", "delivery", "room", "message"}``), signed with ``secret``, and
    retried with back-off until the receiver answers 2xx. The room's owners and staff only."""
    room = _room(slug)
    try:
        webhook = webhook_create(room=room, identity=caller(request), url=payload.url, secret=payload.secret)
    except WebhookError as error:
        raise ApiError("invalid", str(error)) from None
    return Status(201, _out(webhook, room))


@router.get("/rooms/{slug}/webhooks", response={200: list[WebhookOut], **error_responses(403, 404)})
def webhook_list(request: HttpRequest, slug: str) -> list[WebhookOut]:
    """The room's webhooks (their secrets are never shown again). The room's owners and staff only."""
    room = _room(slug)
    check_can_manage_webhooks(room=room, identity=caller(request))
    return [_out(webhook, room) for webhook in webhooks_of_room(room_id=room.pk)]
