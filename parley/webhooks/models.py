"""Webhooks, deliveries and attempts.

A delivery is stored in the transaction that stores its message, so none is lost: the task runners
attempt every pending delivery whose ``next_attempt_at`` has come, and record each attempt.
Models hold data and constraints only; writes go through ``services`` and ``delivery``.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.db import models

from parley.rooms.models import Message, Room

STOPPED_REASON_MAX = 500


class Webhook(models.Model):
    """A URL that receives every new message of ``room``, signed with ``secret``."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    # Shared with the receiver, who recomputes X-Parley-Signature with it; never shown again.
    secret = models.CharField(max_length=200)
    # Off: new messages are not delivered to it. An owner pauses it, or Parley stops it and says
    # why in ``stopped_reason`` (its creator lost the right to read the room, its receiver's
    # address is not public); resuming clears the reason.
    active = models.BooleanField(default=True)
    stopped_reason = models.CharField(max_length=STOPPED_REASON_MAX, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.room.slug} → {self.url}"

    @property
    def status(self) -> Literal["active", "paused", "stopped"]:
        """``active``, ``paused`` (by an owner) or ``stopped`` (by Parley, see ``stopped_reason``)."""
        if self.active:
            return "active"
        return "stopped" if self.stopped_reason else "paused"


class WebhookDelivery(models.Model):
    """One message on its way to one webhook."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due (pending deliveries only); a runner that takes one moves it
    # forward by a lease, so no other runner attempts it meanwhile.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["webhook", "message"], name="webhook_delivery_unique_message"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: the receiver's status code, or the error that stopped it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts_made")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"attempt at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
