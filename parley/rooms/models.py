"""Rooms, memberships, bans and mutes (who may use a room), and messages.

Models hold data and constraints only; writes go through ``services`` and reads through
``selectors``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

SLUG_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
slug_validator = RegexValidator(SLUG_PATTERN, "Use 1 to 64 letters, digits, '-' or '_'.")
# Direct conversations live in private rooms named dm-<id>-<id> (parley.direct); a room someone
# created under such a name would stand in the way of a pair's conversation. Any case of the prefix
# is kept: "DM-1-2" beside "dm-1-2" reads as the same conversation to a person.
DIRECT_SLUG_PREFIX = "dm-"
not_direct_slug_validator = RegexValidator(
    f"^{DIRECT_SLUG_PREFIX}",
    f"Names starting with {DIRECT_SLUG_PREFIX!r} (in any case) are kept for direct messages; choose another name.",
    inverse_match=True,
    flags=re.IGNORECASE,
)


class Room(models.Model):
    """A chat room; ``last_seq`` is the seq of its newest stored message (0 when empty)."""

    # Direct conversations' rooms are created without these checks: only they may use the prefix.
    slug = models.CharField(max_length=64, unique=True, validators=[slug_validator, not_direct_slug_validator])
    title = models.CharField(max_length=200, blank=True)
    is_private = models.BooleanField(default=False, help_text="Only members can see a private room.")
    guests_allowed = models.BooleanField(
        default=False, help_text="Anonymous guests may read and post (public rooms, when PARLEY_GUESTS is on)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    # Kept by parley.webhooks' services: posting a message reads it with the room instead of
    # asking the webhooks table on every message.
    has_webhooks = models.BooleanField(default=False, editable=False)
    # Set by the first ban or mute in the room (and never cleared): until then, posting and reading
    # skip the ban-and-mute lookup, a large share of a busy server's profile when it ran per message.
    has_restrictions = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["slug"]
        # What only staff could do, for a host to grant to groups; what each grants and who holds
        # it without a grant: ``parley.accounts.permissions``.
        permissions = [
            ("read_all_rooms", "Can read and post in every room, private ones included"),
            ("moderate_all_rooms", "Can moderate every room it can read, as the room's owners do"),
            ("publish_messages", "Can publish messages and notifications from a backend (POST /api/publish)"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def display_title(self) -> str:
        return self.title or self.slug


class Membership(models.Model):
    """A user's place in a room, with a role."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MODERATOR = "moderator", "Moderator"
        MEMBER = "member", "Member"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="membership_unique_room_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.room} ({self.role})"


class RoomRestriction(models.Model):
    """What bans and mutes share: who is kept from what in which room, and who did it (null once
    that moderator's account is gone). One restriction of a kind per user and room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True
        # The constraint's index (room, user) is the one the access checks on every post look up.
        # "%(class)s" keeps each kind's own name: roomban_unique_room_user, roommute_unique_room_user.
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="%(class)s_unique_room_user")]


class RoomBan(RoomRestriction):
    """``user`` may neither read nor post in ``room`` until a moderator lifts the ban."""

    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user_id} banned from {self.room_id}"


class RoomMute(RoomRestriction):
    """``user`` may read ``room`` but not post in it before ``until``; a past ``until`` is no mute."""

    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} muted in {self.room_id} until {self.until:%Y-%m-%d %H:%M}"


class Message(models.Model):
    """A stored chat message. ``seq`` numbers a room's messages 1, 2, 3… with no gaps."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # A guest has no user row: a display name, and an id that is stable for the guest's session
    # so that a retried send from the same guest is recognised.
    guest_name = models.CharField(max_length=64, blank=True)
    guest_id = models.CharField(max_length=64, blank=True)
    body = models.TextField()
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Set by ``message_edit``; a deleted message keeps its row and seq (seqs have no gaps) but its
    # ``body`` is blanked: the text it had lives on only in its ``MessageEdit`` history, which
    # moderators can read.
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # A reply names its thread's original by seq (a reply to a reply joins the original's thread);
    # the original counts its replies, so a page shows the count without counting.
    reply_to = models.PositiveBigIntegerField(null=True, blank=True)
    thread_count = models.PositiveIntegerField(default=0, editable=False)
    # Set when files are attached: the fan-out and every page read the attachments table only for
    # the messages that have some, never for the rest.
    has_attachments = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["room", "seq"]
        indexes = [
            models.Index(
                fields=["room", "reply_to", "seq"], condition=models.Q(reply_to__isnull=False), name="message_thread"
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="message_unique_room_seq"),
            models.UniqueConstraint(
                fields=["room", "author", "client_id"],
                condition=models.Q(author__isnull=False),
                name="message_unique_room_author_client_id",
            ),
            models.UniqueConstraint(
                fields=["room", "guest_id", "client_id"],
                condition=~models.Q(guest_id=""),
                name="message_unique_room_guest_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room.slug}#{self.seq}"


class MessageEdit(models.Model):
    """One earlier state of a message: the body it had before ``edited_by`` edited or deleted it.

    The history of a message is for its room's moderators and staff (evidence when someone edits
    away or deletes what they said); other people see only the current state.
    """

    class Action(models.TextChoices):
        EDIT = "edit", "Edited"
        DELETE = "delete", "Deleted"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.EDIT)
    previous_body = models.TextField()
    # Null for a guest (guests have no user row) and when the user is deleted later.
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField()

    class Meta:
        ordering = ["message", "edited_at", "id"]

    def __str__(self) -> str:
        return f"{self.message} {self.action} at {self.edited_at:%Y-%m-%d %H:%M:%S}"


class Reaction(models.Model):
    """A user's emoji on a message; each user puts each emoji on a message at most once."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The constraint's index starts with ``message``: it also serves the per-page count query.
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_unique_message_user_emoji")
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on {self.message} by {self.user_id}"


class Attachment(models.Model):
    """A file uploaded to a room, kept through Django's storage API, and the message it belongs to.

    An upload waits without a message until its uploader sends one naming it; one never attached
    within ``PARLEY_ATTACHMENT_ORPHAN_HOURS`` is deleted. ``file`` and ``thumbnail`` are names in
    the ``PARLEY_ATTACHMENT_STORAGE`` storage, never shown to anyone: files are served by a view
    that checks the reader may read the room.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=255, help_text="The file's name as uploaded (shown, never used as a path).")
    content_type = models.CharField(max_length=100, help_text="Read from the content, not the name.")
    size = models.PositiveBigIntegerField()
    file = models.CharField(max_length=255)
    thumbnail = models.CharField(max_length=255, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    animated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(message__isnull=True), name="attachment_orphans")
        ]

    def __str__(self) -> str:
        return f"{self.name} in {self.room_id}"
