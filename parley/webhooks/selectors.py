"""Reads of webhooks and deliveries."""

from __future__ import annotations

from django.utils import timezone

from parley.webhooks.models import Webhook, WebhookDelivery


def deliveries_due(*, limit: int = 200) -> list[int]:
    """Ids of pending deliveries whose next attempt is due, oldest due first."""
    rows = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
    ).order_by("next_attempt_at")
    return list(rows.values_list("pk", flat=True)[:limit])


def webhooks_of_room(*, room_id: int) -> list[Webhook]:
    """A room's webhooks, oldest first."""
    return list(Webhook.objects.filter(room_id=room_id).select_related("created_by").order_by("id"))


def webhook_of_room(*, room_id: int, webhook_id: int) -> Webhook | None:
    """Webhook ``webhook_id`` if it belongs to room ``room_id``, else None."""
    return Webhook.objects.filter(room_id=room_id, pk=webhook_id).first()
