"""Writes of direct messages: opening (creating once) the conversation of two people.

Refusals are ``parley.moderation.services.ModerationError``, as for every other action on who may
be in a private room, so the transports translate them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from parley.accounts.selectors import user_by_name
from parley.accounts.users import User
from parley.direct.models import DirectConversation
from parley.moderation.services import ModerationError
from parley.rooms.models import DIRECT_SLUG_PREFIX, Membership, Room


@dataclass(frozen=True)
class DirectResult:
    """A direct conversation, and whether this call created it."""

    conversation: DirectConversation
    created: bool


def direct_slug(low_id: int, high_id: int) -> str:
    """The slug of the private room of a direct conversation."""
    return f"{DIRECT_SLUG_PREFIX}{low_id}-{high_id}"


@transaction.atomic
def direct_conversation_open(*, user: User, username: str) -> DirectResult:
    """The private two-person room of ``user`` and ``username``, created on first use.

    Two calls at the same moment (two tabs, or both people at once) get the same room: the pair is
    unique in the database, and the loser of the race reads what the winner stored.
    """
    other = user_by_name(name=username)
    if other is None:
        raise ModerationError("not_found", f"There is no user {username!r}.")
    if other.pk == user.pk:
        raise ModerationError("forbidden", "You cannot start a direct conversation with yourself.")
    low, high = sorted((int(user.pk), int(other.pk)))
    found = _direct(low, high)
    if found is not None:
        # Whoever left the conversation (POST …/leave) and opens it again is back in it, rather than
        # facing a private room they may no longer read.
        Membership.objects.get_or_create(room_id=found.room_id, user_id=user.pk)
        return DirectResult(conversation=found, created=False)
    try:
        # A savepoint: losing the race rolls back this attempt only, and leaves the transaction usable.
        with transaction.atomic():
            room = Room.objects.create(slug=direct_slug(low, high), is_private=True)
            Membership.objects.bulk_create([Membership(room=room, user_id=low), Membership(room=room, user_id=high)])
            conversation = DirectConversation.objects.create(room=room, user_low_id=low, user_high_id=high)
    except IntegrityError:
        found = _direct(low, high)
        if found is None:
            # The slug was taken by something other than this pair's conversation.
            raise ModerationError(
                "conflict", f"The room {direct_slug(low, high)!r} exists but is not your conversation."
            ) from None
        return DirectResult(conversation=found, created=False)
    return DirectResult(conversation=conversation, created=True)


def _direct(low: int, high: int) -> DirectConversation | None:
    rows = DirectConversation.objects.select_related("room", "user_low", "user_high")
    return rows.filter(user_low_id=low, user_high_id=high).first()
