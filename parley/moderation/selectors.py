"""Reads of moderation state: bans, mutes, and members with their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from parley.accounts.users import User
from parley.rooms.models import Membership, Room, RoomBan, RoomMute


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
