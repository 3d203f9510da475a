"""Bans, mutes and direct conversations. Writes go through ``services`` and reads through ``selectors``.

Roles (owner, moderator, member) live on ``parley.rooms.models.Membership``; this app holds what
takes a room away from a user (a ban) or keeps them quiet in it for a while (a mute), and the
two-person private rooms of direct messages.
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


class DirectConversation(models.Model):
    """A direct-message conversation: a private room whose only members are these two users.

    The pair is stored in id order (``user_low`` < ``user_high``), so that its unique constraint
    makes one conversation per pair whoever starts it.
    """

    room = models.OneToOneField(Room, on_delete=models.CASCADE, related_name="direct_conversation")
    user_low = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    user_high = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_low", "user_high"], name="directconversation_unique_pair"),
            models.CheckConstraint(
                condition=models.Q(user_low__lt=models.F("user_high")), name="directconversation_ordered_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"DM {self.user_low_id}-{self.user_high_id}"

    def other_user_id(self, user_id: int) -> int:
        """The id of the person ``user_id`` talks to here."""
        return int(self.user_high_id if user_id == self.user_low_id else self.user_low_id)
