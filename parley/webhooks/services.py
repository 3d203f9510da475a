"""Writes of webhooks: registering, pausing, resuming, stopping and deleting them, and a delivery
for every new message of their room.

A webhook belongs to its room: the room's current owners and staff manage it, whoever created it.
It reads the room on its creator's behalf, so it runs only while its creator may read the room
(``webhook_refusal``, checked before every delivery and on resuming).

``Room.has_webhooks`` mirrors "this room has an active webhook"; every write here keeps it, so
posting a message learns from the room row it has anyway whether there is anything to deliver.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from parley.accounts.identity import Identity, user_identity
from parley.accounts.permissions import MODERATE_ALL_ROOMS
from parley.conf import parley_settings
from parley.rooms.access import RoomAccessError, check_can_read
from parley.rooms.models import Membership, Message, Room
from parley.tasks.queue import enqueue_on_commit
from parley.webhooks.addresses import AddressRefused, check_receiver_url
from parley.webhooks.models import STOPPED_REASON_MAX, Webhook, WebhookDelivery
from parley.wire.errors import ParleyError

# An http or https URL with a host, no spaces or control characters: the API's schema says the same.
URL_PATTERN = r"^https?://[^\s/?#\x00-\x1f\x7f]+(?:[/?#][^\s\x00-\x1f\x7f]*)?$"
URL_MAX_LENGTH = 2000
# The task that POSTs deliveries (``parley.webhooks.delivery.WEBHOOK_DELIVERIES``).
DELIVER_TASK = "webhooks.deliver"
# Printable characters only: the secret is shared with a receiver, usually through configuration.
SECRET_PATTERN = r"^[^\x00-\x1f\x7f]*$"
SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 200


class WebhookError(ParleyError):
    """A webhook that cannot be registered or resumed as asked (``invalid``); ``detail`` says what to change."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid", detail)


def check_can_manage_webhooks(*, room: Room, identity: Identity) -> None:
    """Raise ``RoomAccessError`` unless ``identity`` is an owner of ``room`` or holds
    ``parley.moderate_all_rooms`` (staff, by default)."""
    check_can_read(room=room, identity=identity)  # a private room stays invisible to outsiders
    if identity.can(MODERATE_ALL_ROOMS):
        return
    user_id = identity.user_id
    owners = Membership.objects.filter(room=room, role=Membership.Role.OWNER)
    if user_id is None or not owners.filter(user_id=user_id).exists():
        raise RoomAccessError("forbidden", f"Only an owner of room {room.slug!r} or staff can manage its webhooks.")


def check_webhook_url(url: str) -> str:
    """``url`` stripped, if it may receive webhooks; raise ``WebhookError`` saying why not.

    It must be an http:// or https:// URL of at most ``URL_MAX_LENGTH`` characters whose host is
    public or in ``PARLEY_WEBHOOK_ALLOWED_NETWORKS`` (``parley.webhooks.addresses``).
    """
    url = url.strip()
    if len(url) > URL_MAX_LENGTH or not re.match(URL_PATTERN, url):
        raise WebhookError(f"{url!r} is not an http:// or https:// URL; give the full address of the receiver.")
    try:
        check_receiver_url(url)
    except AddressRefused as refused:
        raise WebhookError(str(refused)) from None
    return url


def webhook_create(*, room: Room, identity: Identity, url: str, secret: str) -> Webhook:
    """Register ``url`` to receive every new message of ``room``, signed with ``secret``.

    Only the room's owners and staff may; the URL must pass ``check_webhook_url``, the secret be
    ``SECRET_MIN_LENGTH`` to ``SECRET_MAX_LENGTH`` characters, and the room have fewer than
    ``PARLEY_WEBHOOKS_PER_ROOM`` webhooks.
    """
    check_can_manage_webhooks(room=room, identity=identity)
    url = check_webhook_url(url)
    if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH or not re.match(SECRET_PATTERN, secret):
        raise WebhookError(
            f"The secret must be {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} printable characters; "
            "use a long random string."
        )
    # The transaction starts after the URL's DNS lookup (up to seconds), so it holds no connection
    # idle meanwhile; the room row is locked so that two registrations at once cannot both pass the count.
    with transaction.atomic():
        Room.objects.select_for_update().filter(pk=room.pk).values_list("pk").first()
        limit: int = parley_settings.WEBHOOKS_PER_ROOM
        if Webhook.objects.filter(room_id=room.pk).count() >= limit:
            raise WebhookError(
                f"Room {room.slug!r} already has {limit} webhooks, the most a room may have; "
                "delete one it no longer needs first."
            )
        webhook = Webhook.objects.create(room=room, url=url, secret=secret, created_by=identity.user)
        room_webhooks_flag_refresh(room_id=room.pk)
    return webhook


def webhook_refusal(*, webhook: Webhook) -> str | None:
    """Why ``webhook`` may not deliver its room's messages now, or None: it reads the room on its
    creator's behalf, so only while the creator may read it (Parley's read rule, ``check_can_read``)."""
    creator = webhook.created_by
    if creator is None:
        return "its creator's account was deleted"
    if not creator.is_active:
        return f"its creator {creator.get_username()}'s account is deactivated"
    room = webhook.room
    try:
        check_can_read(room=room, identity=user_identity(creator))
    except RoomAccessError as refused:
        # The read rule refuses a signed-in user a room they can see (a public one) only for a ban;
        # a private room they may not read (ban included: it ended their membership) looks missing.
        name = creator.get_username()
        if refused.code == "forbidden":
            return f"its creator {name} is banned from #{room.slug}"
        if room.is_private:
            return f"its creator {name} is not a member of #{room.slug}, which is private"
        return f"its creator {name} may no longer read #{room.slug}"
    return None


@transaction.atomic
def webhook_set_active(*, webhook: Webhook, active: bool) -> Webhook:
    """Pause a webhook (new messages are no longer delivered to it) or resume it.

    Resuming checks again what registering checked and that its creator may still read the room,
    and raises ``WebhookError`` with the reason if not; it clears the reason it was stopped for.
    """
    if active:
        check_webhook_url(webhook.url)
        refusal = webhook_refusal(webhook=webhook)
        if refusal is not None:
            raise WebhookError(
                f"This webhook cannot be resumed: {refusal}. Resume it once that has changed, or delete it "
                "and register the receiver again yourself."
            )
    webhook.active = active
    webhook.stopped_reason = ""
    webhook.save(update_fields=["active", "stopped_reason"])
    room_webhooks_flag_refresh(room_id=webhook.room_id)
    return webhook


@transaction.atomic
def webhook_stop(*, webhook_id: int, reason: str) -> None:
    """Switch a webhook off for ``reason`` (shown to the room's owners as "stopped: <reason>")."""
    webhook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
    if webhook is None or not webhook.active:
        return  # deleted, or paused or stopped meanwhile: the first reason stays
    webhook.active = False
    webhook.stopped_reason = reason[:STOPPED_REASON_MAX]
    webhook.save(update_fields=["active", "stopped_reason"])
    room_webhooks_flag_refresh(room_id=webhook.room_id)


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


def message_webhooks_queue(*, message: Message) -> None:
    """A followup of every stored message (``parley.rooms.followups``): store its deliveries to
    the room's webhooks in the message's own transaction (durable), and queue them for after commit.

    Costs nothing for the usual room: the room row that ``message_send`` loaded says whether it
    has webhooks. A webhook registered in the instant between that read and this insert misses
    this one message.
    """
    if not message.room.has_webhooks:
        return
    delivery_ids = webhook_deliveries_create(message=message)
    if delivery_ids:
        enqueue_on_commit(DELIVER_TASK, delivery_ids=delivery_ids)
