"""Reads of direct messages: a user's conversations, and the conversation a room holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Q, Subquery

from parley.accounts.identity import user_identity
from parley.accounts.users import User
from parley.direct.models import DirectConversation
from parley.rooms.access import readable_rooms
from parley.rooms.models import Message, Room


@dataclass(frozen=True)
class DirectRow:
    """One of a user's direct conversations: the room, the other person, and the last activity."""

    conversation: DirectConversation
    other: User
    last_activity: datetime


def direct_conversations(*, user: User) -> list[DirectRow]:
    """``user``'s direct conversations, the one with the newest message (or the newest conversation,
    when nothing was said yet) first; one query. Like every list of rooms, only those ``user`` may
    read (``readable_rooms``): a conversation they left is not theirs to list."""
    # The newest message through the (room, seq) unique index: one index step per conversation.
    newest = Message.objects.filter(room_id=OuterRef("room_id")).order_by("-seq").values("created_at")[:1]
    readable = readable_rooms(identity=user_identity(user))
    conversations = (
        DirectConversation.objects.filter(Q(user_low=user) | Q(user_high=user), room__in=readable)
        .select_related("room", "user_low", "user_high")
        .annotate(last_message=Subquery(newest))
    )
    found = []
    for conversation in conversations:
        other = conversation.other_user(user.pk)
        last = conversation.last_message or conversation.created_at
        found.append(DirectRow(conversation=conversation, other=other, last_activity=last))
    found.sort(key=lambda row: (row.last_activity, row.conversation.pk), reverse=True)
    return found


def direct_conversation_of(*, room: Room) -> DirectConversation | None:
    """The direct conversation ``room`` holds, or None for an ordinary room."""
    return DirectConversation.objects.filter(room=room).select_related("user_low", "user_high").first()
