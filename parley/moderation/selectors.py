"""Reads of moderation state: bans, mutes, members with their roles, and direct conversations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from parley.accounts.identity import user_identity
from parley.accounts.users import User
from parley.moderation.models import DirectConversation, RoomBan, RoomMute
from parley.rooms.access import readable_rooms
from parley.rooms.models import Membership, Message, Room


def user_is_banned(*, room: Room, user: User) -> bool:
    """Whether ``user`` is banned from ``room``."""
    return RoomBan.objects.filter(room=room, user=user).exists()


@dataclass(frozen=True)
class MemberRow:
    """A member of a room with their role, and their mute's end when they are muted now."""

    user: User
    role: str
    muted_until: datetime | None


def room_members(*, room: Room) -> list[MemberRow]:
    """The room's members, owners first, then moderators, then by name; two queries in all."""
    order: dict[str, int] = {"owner": 0, "moderator": 1, "member": 2}
    memberships = list(Membership.objects.filter(room=room).select_related("user"))
    mutes = dict(RoomMute.objects.filter(room=room, until__gt=timezone.now()).values_list("user_id", "until"))
    memberships.sort(key=lambda m: (order.get(m.role, 3), m.user.get_username().casefold()))
    return [MemberRow(user=m.user, role=m.role, muted_until=mutes.get(m.user_id)) for m in memberships]


def room_bans(*, room: Room) -> list[RoomBan]:
    """The room's bans, newest first, with who was banned and by whom."""
    return list(RoomBan.objects.filter(room=room).select_related("user", "by").order_by("-created_at", "-id"))


def room_mutes(*, room: Room) -> list[RoomMute]:
    """The room's running mutes, soonest to end first."""
    rows = RoomMute.objects.filter(room=room, until__gt=timezone.now()).select_related("user", "by")
    return list(rows.order_by("until", "id"))


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
        other = conversation.user_high if conversation.user_low_id == user.pk else conversation.user_low
        last = conversation.last_message or conversation.created_at
        found.append(DirectRow(conversation=conversation, other=other, last_activity=last))
    found.sort(key=lambda row: (row.last_activity, row.conversation.pk), reverse=True)
    return found


def direct_conversation_of(*, room: Room) -> DirectConversation | None:
    """The direct conversation ``room`` holds, or None for an ordinary room."""
    return DirectConversation.objects.filter(room=room).select_related("user_low", "user_high").first()
