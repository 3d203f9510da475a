"""Bans and mutes. Writes go through ``services`` and reads through ``selectors``.

Roles (owner, moderator, member) live on ``parley.rooms.models.Membership``; this app holds what
takes a room away from a user (a ban) or keeps them quiet in it for a while (a mute). Direct
conversations are ``parley.direct``'s.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from parley.rooms.models import Room


class RoomBan(models.Model):
    """``user`` may neither read nor post in ``room`` until a moderator lifts the ban."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The constraint's index (room, user) is the one the access check on every post looks up.
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="roomban_unique_room_user")]

    def __str__(self) -> str:
        return f"{self.user_id} banned from {self.room_id}"


class RoomMute(models.Model):
    """``user`` may read ``room`` but not post in it before ``until``; a past ``until`` is no mute."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="roommute_unique_room_user")]

    def __str__(self) -> str:
        return f"{self.user_id} muted in {self.room_id} until {self.until:%Y-%m-%d %H:%M}"
