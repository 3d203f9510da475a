"""Read markers. Writes go through ``services`` and reads through ``selectors``."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from parley.rooms.models import Room


class ReadMarker(models.Model):
    """How far a user has read in a room: every message with seq up to ``last_read`` is read.

    A user with no marker in a room has read nothing there (``last_read`` 0). Guests have none:
    they have no user row to keep one for.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    last_read = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The constraint's index starts with ``user``: it also serves the room list's one query.
        constraints = [models.UniqueConstraint(fields=["user", "room"], name="readmarker_unique_user_room")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.room_id} up to {self.last_read}"
