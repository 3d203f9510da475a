"""Room members, roles, bans and mutes.

Anyone who may read a room may list its members; owners and moderators invite, remove, ban and
mute (moderators: members only); owners change roles. Rules and sentences live in
``parley.moderation.services``; a refusal answers 403, a missing user 404, and an action the
room's state does not allow (inviting a banned user, say) 409.
"""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.responses import Status
from pydantic import Field

from parley.accounts.users import User
from parley.api.auth import caller, caller_user
from parley.api.errors import error_responses
from parley.api.schemas import USERNAME_PATTERN, JsonBody, Text, Username
from parley.moderation.selectors import room_members
from parley.moderation.services import (
    MAX_MUTE,
    MAX_REASON,
    member_ban,
    member_invite,
    member_mute,
    member_remove,
    member_set_role,
    member_unban,
    member_unmute,
)
from parley.rooms.models import Room
from parley.rooms.selectors import room_for_reader
from parley.wire.serializers import iso_time
from parley.wire.text import Slug

router = Router(tags=["moderation"])

SlugPath = Annotated[Slug, Path(description="The room's slug.")]
UsernamePath = Annotated[str, Path(pattern=USERNAME_PATTERN, description="The user's username.")]


class MemberOut(Schema):
    """A member of a room."""

    username: str = Field(description="The member's username.")
    role: Literal["owner", "moderator", "member"] = Field(description="The member's role in the room.")
    muted_until: str | None = Field(description="When the member's mute ends (ISO 8601 UTC); null when not muted.")


class MemberIn(JsonBody):
    """Who to invite."""

    username: Username


class RoleIn(JsonBody):
    """The member's new role; "owner" hands the room over (its owners become moderators)."""

    role: Literal["owner", "moderator", "member"] = Field(description="owner, moderator or member.")


class BanIn(JsonBody):
    """Who to ban, and why (shown to moderators)."""

    username: Username
    reason: Text = Field(default="", max_length=MAX_REASON, description="Why; optional.")


class BanOut(Schema):
    """A ban."""

    username: str = Field(description="The banned user.")
    reason: str = Field(description="Why, as the moderator wrote it; may be empty.")
    by: str | None = Field(description="Who banned them; null when that user was deleted.")
    created_at: str = Field(description="When (ISO 8601 UTC).")


class MuteIn(JsonBody):
    """Who to mute, and for how long."""

    username: Username
    duration: int = Field(ge=1, le=int(MAX_MUTE.total_seconds()), description="Seconds, 1 to 31536000 (a year).")


class MuteOut(Schema):
    """A running mute."""

    username: str = Field(description="The muted user.")
    until: str = Field(description="When the mute ends (ISO 8601 UTC).")


def _room_and_actor(request: HttpRequest, slug: str) -> tuple[Room, User]:
    identity = caller(request)
    return room_for_reader(slug=slug, identity=identity), caller_user(request)


@router.get(
    "/rooms/{slug}/members",
    response={200: list[MemberOut], **error_responses(403, 404)},
    operation_id="rooms_members_list",
    summary="List a room's members with their roles",
)
def rooms_members_list(request: HttpRequest, slug: SlugPath) -> list[MemberOut]:
    """Owners first, then moderators, then members by name."""
    room, _ = _room_and_actor(request, slug)
    return [
        MemberOut(username=row.user.get_username(), role=row.role, muted_until=iso_time(row.muted_until))  # type: ignore[arg-type]
        for row in room_members(room=room)
    ]


@router.post(
    "/rooms/{slug}/members",
    response={200: MemberOut, **error_responses(403, 404, 409)},
    operation_id="rooms_members_invite",
    summary="Invite a user into a room",
)
def rooms_members_invite(request: HttpRequest, slug: SlugPath, payload: MemberIn) -> MemberOut:
    """Owners and moderators add a user as a member (the way into a private room). A member keeps
    their role; a banned user must be unbanned first (409)."""
    room, actor = _room_and_actor(request, slug)
    membership = member_invite(room=room, actor=actor, username=payload.username)
    return MemberOut(username=payload.username, role=membership.role, muted_until=None)  # type: ignore[arg-type]


@router.delete(
    "/rooms/{slug}/members/{username}",
    response={204: None, **error_responses(403, 404, 409)},
    operation_id="rooms_members_remove",
    summary="Remove a member from a room",
)
def rooms_members_remove(request: HttpRequest, slug: SlugPath, username: UsernamePath) -> Status[None]:
    """Owners and moderators take a membership away; in a private room the user loses the room at
    once on every connection. In a public room they can still read and join again: ban them for that."""
    room, actor = _room_and_actor(request, slug)
    member_remove(room=room, actor=actor, username=username)
    return Status(204, None)


@router.post(
    "/rooms/{slug}/members/{username}/role",
    response={200: MemberOut, **error_responses(403, 404, 409)},
    operation_id="rooms_members_set_role",
    summary="Change a member's role",
)
def rooms_members_set_role(request: HttpRequest, slug: SlugPath, username: UsernamePath, payload: RoleIn) -> MemberOut:
    """Owners (and staff) make members moderators and back; "owner" hands the room over."""
    room, actor = _room_and_actor(request, slug)
    membership = member_set_role(room=room, actor=actor, username=username, role=payload.role)
    return MemberOut(username=username, role=membership.role, muted_until=None)  # type: ignore[arg-type]


@router.post(
    "/rooms/{slug}/bans",
    response={200: BanOut, **error_responses(403, 404, 409)},
    operation_id="rooms_bans_create",
    summary="Ban a user from a room",
)
def rooms_bans_create(request: HttpRequest, slug: SlugPath, payload: BanIn) -> BanOut:
    """The user's membership ends and every connection of theirs loses the room at once; they can
    neither read nor post there until unbanned. Banning again keeps the first ban."""
    room, actor = _room_and_actor(request, slug)
    ban = member_ban(room=room, actor=actor, username=payload.username, reason=payload.reason)
    return BanOut(
        username=payload.username,
        reason=ban.reason,
        by=ban.by.get_username() if ban.by is not None else None,
        created_at=iso_time(ban.created_at) or "",
    )


@router.delete(
    "/rooms/{slug}/bans/{username}",
    response={204: None, **error_responses(403, 404)},
    operation_id="rooms_bans_delete",
    summary="Lift a ban",
)
def rooms_bans_delete(request: HttpRequest, slug: SlugPath, username: UsernamePath) -> Status[None]:
    """Nothing to do if the user was not banned. They are not a member again (invite them to a private room)."""
    room, actor = _room_and_actor(request, slug)
    member_unban(room=room, actor=actor, username=username)
    return Status(204, None)


@router.post(
    "/rooms/{slug}/mutes",
    response={200: MuteOut, **error_responses(403, 404, 409)},
    operation_id="rooms_mutes_create",
    summary="Mute a user in a room for a while",
)
def rooms_mutes_create(request: HttpRequest, slug: SlugPath, payload: MuteIn) -> MuteOut:
    """The user can still read the room but not post until the mute ends; muting again sets the new end."""
    room, actor = _room_and_actor(request, slug)
    mute = member_mute(room=room, actor=actor, username=payload.username, seconds=payload.duration)
    return MuteOut(username=payload.username, until=iso_time(mute.until) or "")


@router.delete(
    "/rooms/{slug}/mutes/{username}",
    response={204: None, **error_responses(403, 404)},
    operation_id="rooms_mutes_delete",
    summary="End a mute now",
)
def rooms_mutes_delete(request: HttpRequest, slug: SlugPath, username: UsernamePath) -> Status[None]:
    """Nothing to do if the user was not muted."""
    room, actor = _room_and_actor(request, slug)
    member_unmute(room=room, actor=actor, username=username)
    return Status(204, None)
