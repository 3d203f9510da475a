"""``/api/rooms/{slug}/webhooks``: register, list, pause, resume and delete a room's webhooks.

Webhooks belong to the room: its current owners and staff manage every one of them, whoever
registered it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.responses import Status
from pydantic import Field

from parley.api.auth import caller
from parley.api.errors import error_responses
from parley.rooms.access import room_not_found
from parley.rooms.models import Room
from parley.rooms.selectors import room_get
from parley.webhooks.models import Webhook
from parley.webhooks.selectors import webhook_of_room, webhooks_of_room
from parley.webhooks.services import (
    SECRET_MAX_LENGTH,
    SECRET_MIN_LENGTH,
    SECRET_PATTERN,
    URL_MAX_LENGTH,
    URL_PATTERN,
    check_can_manage_webhooks,
    webhook_create,
    webhook_delete,
    webhook_set_active,
)
from parley.wire.errors import ParleyError

router = Router(tags=["webhooks"])


class WebhookIn(Schema):
    url: str = Field(
        max_length=URL_MAX_LENGTH,
        pattern=URL_PATTERN,
        description="Where each new message is POSTed: an http:// or https:// URL whose host has public "
        "addresses only (no loopback, private, link-local or reserved ones, unless the operator allows them), "
        "without a user name or password.",
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
    active: bool = Field(description="Whether new messages are delivered to it.")
    status: Literal["active", "paused", "stopped"] = Field(
        description="active; paused by an owner; or stopped by Parley, for stopped_reason."
    )
    stopped_reason: str = Field(
        description="Why Parley stopped it (its creator may no longer read the room, its receiver's address "
        "is not public); empty unless stopped. Fix that, then resume it."
    )
    created_by: str | None = Field(description="Who registered it; null once their account is deleted.")
    created_at: datetime


class WebhookPatch(Schema):
    active: bool = Field(
        description="false pauses it; true resumes it, once its URL and its creator's access to the room are "
        "checked again (400 saying why if either fails)."
    )


WebhookIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="The webhook's id.")]


def _out(webhook: Webhook, room: Room) -> WebhookOut:
    creator = webhook.created_by
    return WebhookOut(
        id=webhook.pk,
        room=room.slug,
        url=webhook.url,
        active=webhook.active,
        status=webhook.status,
        stopped_reason=webhook.stopped_reason,
        created_by=None if creator is None else creator.get_username(),
        created_at=webhook.created_at,
    )


def _room(slug: str) -> Room:
    room = room_get(slug=slug)
    if room is None:
        raise room_not_found(slug)
    return room


def _managed(request: HttpRequest, slug: str, webhook_id: int) -> tuple[Room, Webhook]:
    """The room and its webhook ``webhook_id``, if the caller manages the room's webhooks."""
    room = _room(slug)
    check_can_manage_webhooks(room=room, identity=caller(request))
    webhook = webhook_of_room(room_id=room.pk, webhook_id=webhook_id)
    if webhook is None:
        raise ParleyError("not_found", f"Room {room.slug!r} has no webhook {webhook_id}.")
    return room, webhook


@router.post("/rooms/{slug}/webhooks", response={201: WebhookOut, **error_responses(403, 404)})
def webhook_add(request: HttpRequest, slug: str, payload: WebhookIn) -> Status[WebhookOut]:
    """Register a webhook: every message stored in the room from now on is POSTed to ``url`` as JSON
    (``{"event": "message.created", "delivery", "room", "message"}``), signed with ``secret``, and
    retried with back-off until the receiver answers 2xx. The room's owners and staff only; at most
    ``PARLEY_WEBHOOKS_PER_ROOM`` per room; the receiver must have public addresses only."""
    room = _room(slug)
    webhook = webhook_create(room=room, identity=caller(request), url=payload.url, secret=payload.secret)
    return Status(201, _out(webhook, room))


@router.get("/rooms/{slug}/webhooks", response={200: list[WebhookOut], **error_responses(403, 404)})
def webhook_list(request: HttpRequest, slug: str) -> list[WebhookOut]:
    """The room's webhooks (their secrets are never shown again). The room's owners and staff only."""
    room = _room(slug)
    check_can_manage_webhooks(room=room, identity=caller(request))
    return [_out(webhook, room) for webhook in webhooks_of_room(room_id=room.pk)]


@router.get("/rooms/{slug}/webhooks/{webhook_id}", response={200: WebhookOut, **error_responses(403, 404)})
def webhook_get(request: HttpRequest, slug: str, webhook_id: WebhookIdPath) -> WebhookOut:
    """One of the room's webhooks, with its status. The room's owners and staff only."""
    room, webhook = _managed(request, slug, webhook_id)
    return _out(webhook, room)


@router.patch("/rooms/{slug}/webhooks/{webhook_id}", response={200: WebhookOut, **error_responses(403, 404)})
def webhook_update(request: HttpRequest, slug: str, webhook_id: WebhookIdPath, payload: WebhookPatch) -> WebhookOut:
    """Pause (``{"active": false}``) or resume (``{"active": true}``) a webhook. Resuming checks again that
    its receiver's address is allowed and that its creator may still read the room. The room's owners and
    staff only."""
    room, webhook = _managed(request, slug, webhook_id)
    webhook = webhook_set_active(webhook=webhook, active=payload.active)
    return _out(webhook, room)


@router.delete("/rooms/{slug}/webhooks/{webhook_id}", response={204: None, **error_responses(403, 404)})
def webhook_remove(request: HttpRequest, slug: str, webhook_id: WebhookIdPath) -> Status[None]:
    """Delete a webhook with its deliveries. The room's owners and staff only."""
    _, webhook = _managed(request, slug, webhook_id)
    webhook_delete(webhook=webhook)
    return Status(204, None)
