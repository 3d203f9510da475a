"""Direct conversations: the two-person private rooms of direct messages.

Writes go through ``services`` and reads through ``selectors``. The room itself is an ordinary
``parley.rooms.models.Room`` (private, slug ``dm-<low id>-<high id>``) whose only members are the
two people; this model pairs it with them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from parley.accounts.users import User
from parley.rooms.models import Room


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

    def other_user_id(self, user_id: int | None) -> int:
        """The id of the person ``user_id`` talks to here; for anyone else (staff reading the room,
        a guest) the pair's first person. Every "who is the other one" goes through here."""
        return int(self.user_high_id if user_id == self.user_low_id else self.user_low_id)

    def other_user(self, user_id: int | None) -> User:
        """The person ``other_user_id`` names (select ``user_low`` and ``user_high`` along with the
        conversation to read them without a query)."""
        other: User = self.user_high if self.other_user_id(user_id) == self.user_high_id else self.user_low
        return other
