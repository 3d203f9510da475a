"""Writes of moderation: members and their roles, bans, mutes and room settings.

Who may do what: holders of ``parley.moderate_all_rooms`` (staff, by default) may do everything;
a room's owners may act on moderators and members, and its moderators on members only (never on
owners or other moderators). Only owners (and those holders) change roles and room settings. Nobody
acts on someone who reads or moderates every room: no ban or mute would hold them. Every refusal
is a ``ModerationError`` with a sentence a person can act on. A user who loses a room they follow
(banned, or removed from a private room) loses it on every socket at once, after commit
(``publish_room_kick_on_commit``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from django.db import transaction
from django.utils import timezone

from parley.accounts.permissions import MODERATE_ALL_ROOMS, READ_ALL_ROOMS, holders, user_can
from parley.accounts.selectors import user_by_name
from parley.accounts.users import User, users
from parley.events.publish import publish_room_closed_on_commit, publish_room_kick_on_commit
from parley.rooms.models import Membership, Room, RoomBan, RoomMute
from parley.wire.errors import ParleyError

Role = Literal["owner", "moderator", "member"]
# Longest mute: a year. Longer is a ban.
MAX_MUTE = timedelta(days=365)
MAX_REASON = 500
MAX_TITLE = 200


class ModerationError(ParleyError):
    """A refused moderation action: ``forbidden``, ``not_found``, or ``conflict`` for an action the
    room's current state does not allow, which is the protocol's ``invalid`` answered with HTTP 409."""

    def __init__(self, code: Literal["forbidden", "not_found", "conflict"], detail: str) -> None:
        if code == "conflict":
            super().__init__("invalid", detail, status=409)
        else:
            super().__init__(code, detail)


# Who outranks whom: an actor acts only on people of a lower rank.
_RANK = {Membership.Role.MEMBER: 1, Membership.Role.MODERATOR: 2, Membership.Role.OWNER: 3}
# Holders of parley.moderate_all_rooms (staff, by default) outrank every room's owners.
_ALL_ROOMS_RANK = 4


def _role_of(room: Room, user: User) -> str | None:
    return Membership.objects.filter(room=room, user=user).values_list("role", flat=True).first()


def _rank(room: Room, user: User) -> int:
    if user_can(user, MODERATE_ALL_ROOMS):
        return _ALL_ROOMS_RANK
    role = _role_of(room, user)
    return 0 if role is None else _RANK[Membership.Role(role)]


def _require_moderator(room: Room, actor: User) -> int:
    """The actor's rank, when they may moderate ``room``; raise otherwise."""
    rank = _rank(room, actor)
    if rank < _RANK[Membership.Role.MODERATOR]:
        raise ModerationError("forbidden", f"Only the owners and moderators of #{room.slug} can do this.")
    return rank


def _require_owner(room: Room, actor: User) -> int:
    rank = _rank(room, actor)
    if rank < _RANK[Membership.Role.OWNER]:
        raise ModerationError("forbidden", f"Only the owners of #{room.slug} can do this.")
    return rank


def _not_direct(room: Room) -> None:
    # Asked through the conversation's reverse relation: ``parley.direct`` sits above this package.
    if Room.objects.filter(pk=room.pk, direct_conversation__isnull=False).exists():
        raise ModerationError(
            "conflict", "A direct conversation is between its two people only; create a room to talk with more."
        )


def _user(username: str) -> User:
    user = user_by_name(name=username)
    if user is None:
        raise ModerationError("not_found", f"There is no user {username!r}.")
    return user


def _target(room: Room, actor: User, actor_rank: int, username: str, doing: str) -> User:
    """The user named ``username``, when ``actor`` may do ``doing`` to them; raise otherwise."""
    target = _user(username)
    if target.pk == actor.pk:
        raise ModerationError("forbidden", f"You cannot {doing} yourself.")
    if user_can(target, MODERATE_ALL_ROOMS) or user_can(target, READ_ALL_ROOMS):
        above = "is staff" if getattr(target, "is_staff", False) else "reads or moderates every room"
        raise ModerationError("forbidden", f"{target.get_username()} {above}; they cannot be moderated in a room.")
    target_rank = _rank(room, target)
    if target_rank >= actor_rank:
        raise ModerationError(
            "forbidden", f"{target.get_username()} is {_rank_name(target_rank, room, target)}; you cannot {doing} them."
        )
    return target


def _rank_name(rank: int, room: Room, user: User) -> str:
    if rank == _ALL_ROOMS_RANK:
        return "staff" if getattr(user, "is_staff", False) else "a moderator of every room"
    role = "an owner" if rank == _RANK[Membership.Role.OWNER] else "a moderator"
    return f"{role} of #{room.slug}"


def _check_lift(room: Room, actor_rank: int, imposed_by: User | None, what: str) -> None:
    """Raise unless an actor of ``actor_rank`` may lift a ban or mute that ``imposed_by`` imposed.

    Besides the rules for imposing it (checked by ``_target``), a decision is undone only by
    someone of at least the rank its maker has now: moderators lift each other's bans and mutes,
    never an owner's or staff's.
    """
    if imposed_by is None:
        return
    imposer_rank = _rank(room, imposed_by)
    if imposer_rank > actor_rank:
        raise ModerationError(
            "forbidden",
            f"This {what} was imposed by {imposed_by.get_username()}, "
            f"who is {_rank_name(imposer_rank, room, imposed_by)}; "
            "only they, or someone of at least their rank, can lift it.",
        )


@transaction.atomic
def member_invite(*, room: Room, actor: User, username: str) -> Membership:
    """Make ``username`` a member of ``room`` (for a private room: let them in). Inviting a member
    again changes nothing. A banned user must be unbanned first."""
    _require_moderator(room, actor)
    _not_direct(room)
    user = _user(username)
    if RoomBan.objects.filter(room=room, user=user).exists():
        raise ModerationError("conflict", f"{user.get_username()} is banned from #{room.slug}; unban them first.")
    membership, _ = Membership.objects.get_or_create(room=room, user=user)
    return membership


@transaction.atomic
def member_remove(*, room: Room, actor: User, username: str) -> None:
    """Take ``username``'s membership of ``room`` away. In a private room they lose the room on
    every socket at once; a public room they may still read and join again (ban them to stop that)."""
    rank = _require_moderator(room, actor)
    _not_direct(room)
    target = _target(room, actor, rank, username, "remove")
    removed, _ = Membership.objects.filter(room=room, user=target).delete()
    if not removed:
        raise ModerationError("not_found", f"{target.get_username()} is not a member of #{room.slug}.")
    if room.is_private:
        publish_room_kick_on_commit(room.pk, target.pk, f"You were removed from #{room.slug}.")


@transaction.atomic
def member_ban(*, room: Room, actor: User, username: str, reason: str = "") -> RoomBan:
    """Ban ``username`` from ``room``: their membership (and any mute) ends, every socket of theirs
    loses the room at once, and they can neither read nor post there until unbanned. Banning a
    banned user keeps the first ban."""
    rank = _require_moderator(room, actor)
    _not_direct(room)
    target = _target(room, actor, rank, username, "ban")
    _mark_restricted(room)
    ban, created = RoomBan.objects.get_or_create(
        room=room, user=target, defaults={"by": actor, "reason": reason[:MAX_REASON]}
    )
    if created:
        Membership.objects.filter(room=room, user=target).delete()
        RoomMute.objects.filter(room=room, user=target).delete()
        publish_room_kick_on_commit(room.pk, target.pk, f"You were banned from #{room.slug}.")
    return ban


@transaction.atomic
def member_unban(*, room: Room, actor: User, username: str) -> bool:
    """Lift ``username``'s ban (False when there was none). They do not become a member again: a
    private room needs a new invitation. The rank rules are those of banning, and the ban's maker
    must not outrank the actor (``_check_lift``)."""
    rank = _require_moderator(room, actor)
    target = _target(room, actor, rank, username, "unban")
    ban = RoomBan.objects.select_for_update(of=("self",)).select_related("by").filter(room=room, user=target).first()
    if ban is None:
        return False
    _check_lift(room, rank, ban.by, "ban")
    ban.delete()
    return True


@transaction.atomic
def member_mute(
    *, room: Room, actor: User, username: str, until: datetime | None = None, seconds: int | None = None
) -> RoomMute:
    """Keep ``username`` from posting in ``room`` until ``until`` (or for ``seconds``); they still
    read it. Muting a muted user sets the new end."""
    rank = _require_moderator(room, actor)
    _not_direct(room)
    now = timezone.now()
    if until is None:
        if seconds is None:
            raise ModerationError("conflict", "Say how long the mute lasts.")
        until = now + timedelta(seconds=seconds)
    if until <= now:
        raise ModerationError("conflict", "A mute must end in the future.")
    if until - now > MAX_MUTE:
        raise ModerationError("conflict", "A mute lasts at most a year; ban the user instead.")
    target = _target(room, actor, rank, username, "mute")
    if RoomBan.objects.filter(room=room, user=target).exists():
        raise ModerationError("conflict", f"{target.get_username()} is banned from #{room.slug} already.")
    _mark_restricted(room)
    mute, _ = RoomMute.objects.update_or_create(room=room, user=target, defaults={"by": actor, "until": until})
    return mute


@transaction.atomic
def member_unmute(*, room: Room, actor: User, username: str) -> bool:
    """End ``username``'s mute in ``room`` now (False when they were not muted). The rank rules are
    those of muting (so nobody unmutes themselves), and the mute's maker must not outrank the
    actor (``_check_lift``)."""
    rank = _require_moderator(room, actor)
    target = _target(room, actor, rank, username, "unmute")
    mute = RoomMute.objects.select_for_update(of=("self",)).select_related("by").filter(room=room, user=target).first()
    if mute is None:
        return False
    running = mute.until > timezone.now()
    if running:
        _check_lift(room, rank, mute.by, "mute")
    mute.delete()  # an ended one too: nothing to keep
    return running


@transaction.atomic
def member_set_role(*, room: Room, actor: User, username: str, role: Role) -> Membership:
    """Give member ``username`` the role ``role``: owners (and staff) promote members to moderators
    and back. Making someone the owner hands the room over: the room's owners become moderators."""
    _require_owner(room, actor)
    _not_direct(room)
    target = _user(username)
    membership = Membership.objects.select_for_update().filter(room=room, user=target).first()
    if membership is None:
        raise ModerationError(
            "not_found", f"{target.get_username()} is not a member of #{room.slug}; invite them first."
        )
    if membership.role == role:
        return membership
    if role == "owner":
        Membership.objects.filter(room=room, role=Membership.Role.OWNER).exclude(pk=membership.pk).update(
            role=Membership.Role.MODERATOR
        )
    elif membership.role == Membership.Role.OWNER:
        raise ModerationError(
            "conflict",
            f"{target.get_username()} owns #{room.slug}; "
            "make someone else the owner instead, and they become a moderator.",
        )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def room_settings_update(*, room: Room, actor: User, title: str, is_private: bool, guests_allowed: bool) -> Room:
    """Change ``room``'s title and who may use it (owners and staff). Guests are only ever let into
    public rooms, whatever ``guests_allowed`` says of a private one."""
    _require_owner(room, actor)
    _not_direct(room)
    title = title.strip()
    if len(title) > MAX_TITLE:
        raise ModerationError("conflict", f"A title is at most {MAX_TITLE} characters.")
    closing = is_private and not room.is_private
    room.title, room.is_private, room.guests_allowed = title, is_private, guests_allowed
    room.save(update_fields=["title", "is_private", "guests_allowed"])
    if closing:
        # Whoever follows the room without being a member (or reading every room) must stop
        # receiving it now, not at their next subscribe.
        readers = {*Membership.objects.filter(room=room).values_list("user_id", flat=True)}
        readers |= {*users().filter(holders(READ_ALL_ROOMS)).values_list("pk", flat=True)}
        publish_room_closed_on_commit(room.pk, readers, f"#{room.slug} is now private, for its members only.")
    return room


def _mark_restricted(room: Room) -> None:
    """Note that the room has bans or mutes, so its access checks look them up from now on."""
    if not room.has_restrictions:
        Room.objects.filter(pk=room.pk).update(has_restrictions=True)
        room.has_restrictions = True
