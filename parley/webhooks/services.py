"""Writes of webhooks: registering them, and a delivery for every new message of their room.

``Room.has_webhooks`` mirrors "this room has an active webhook"; every write here keeps it, so
posting a message learns from the room row it has anyway whether there is anything to deliver.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from parley.accounts.identity import Identity
from parley.rooms.access import RoomAccessError, check_can_read
from parley.rooms.models import Membership, Message, Room
from parley.webhooks.models import Webhook, WebhookDelivery

# An http or https URL with a host, no spaces or control characters: the API's schema says the same.
URL_PATTERN = r"^https?://[^\s/?#\x00-\x1f\x7f]+(?:[/?#][^\s\x00-\x1f\x7f]*)?$"
URL_MAX_LENGTH = 2000
# Printable characters only: the secret is shared with a receiver, usually through configuration.
SECRET_PATTERN = r"^[^\x00-\x1f\x7f]*$"
SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 200


class WebhookError(ValueError):
    """A webhook that cannot be registered as asked; the message says what to change."""


def check_can_manage_webhooks(*, room: Room, identity: Identity) -> None:
    """Raise ``RoomAccessError`` unless ``identity`` is staff or an owner of ``room``."""
    check_can_read(room=room, identity=identity)  # a private room stays invisible to outsiders
    if identity.is_staff:
        return
    user_id = identity.user_id
    owners = Membership.objects.filter(room=room, role=Membership.Role.OWNER)
    if user_id is None or not owners.filter(user_id=user_id).exists():
        raise RoomAccessError("forbidden", f"Only an owner of room {room.slug!r} or staff can manage its webhooks.")


@transaction.atomic
def webhook_create(*, room: Room, identity: Identity, url: str, secret: str) -> Webhook:
    """Register ``url`` to receive every new message of ``room``, signed with ``secret``.

    Only the room's owners and staff may; the URL must be http or https and the secret
    ``SECRET_MIN_LENGTH`` to ``SECRET_MAX_LENGTH`` characters.
    """
    check_can_manage_webhooks(room=room, identity=identity)
    url = url.strip()
    if len(url) > URL_MAX_LENGTH or not re.match(URL_PATTERN, url):
        raise WebhookError(
            f"{url!r} is not an http:// or https:// URL; give the full address of the receiver."
        ) from None
    if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH or not re.match(SECRET_PATTERN, secret):
        raise WebhookError(
            f"The secret must be {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} printable characters; "
            "use a long random string."
        )
    webhook = Webhook.objects.create(room=room, url=url, secret=secret, created_by=identity.user)
    room_webhooks_flag_refresh(room_id=room.pk)
    return webhook


@transaction.atomic
def webhook_set_active(*, webhook: Webhook, active: bool) -> Webhook:
    """Switch a webhook on or off (off: new messages are no longer delivered to it)."""
    webhook.active = active
    webhook.save(update_fields=["active"])
    room_webhooks_flag_refresh(room_id=webhook.room_id)
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: Webhook) -> None:
    """Remove a webhook with its deliveries and their attempts."""
    room_id = webhook.room_id
    webhook.delete()
    room_webhooks_flag_refresh(room_id=room_id)


def room_webhooks_flag_refresh(*, room_id: int) -> None:
    """Set ``Room.has_webhooks`` from the room's active webhooks, in one statement."""
    active = Webhook.objects.filter(room_id=OuterRef("pk"), active=True)
    Room.objects.filter(pk=room_id).update(has_webhooks=Exists(active))


def webhook_deliveries_create(*, message: Message) -> list[int]:
    """A pending delivery of ``message`` to each active webhook of its room, due now; their ids.

    Called by ``message_post`` inside its transaction, only for rooms with webhooks, so a stored
    message always has its deliveries and a rolled-back one never does.
    """
    hooks = Webhook.objects.filter(room_id=message.room_id, active=True).values_list("pk", flat=True)
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook_id=hook, message=message, next_attempt_at=now) for hook in hooks]
    )
    return [delivery.pk for delivery in deliveries]
