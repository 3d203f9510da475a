"""A notification: something that happened that one user should hear about.

Models hold data and constraints only; writes go through ``services`` and reads through
``selectors``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One notification for one recipient: a ``kind`` such as ``order.status`` and its JSON ``data``.

    Ids grow in commit order for each recipient (``notify`` locks the recipient's row while it
    inserts), which is what lets a client resume with ``since=<id>`` and miss nothing.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # When a summary e-mail covered this notification (mentions missed while offline).
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["recipient", "id"], name="notification_recipient_id"),
            models.Index(fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} (#{self.pk})"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
