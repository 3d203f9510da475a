"""Who may read and post in which room: the README's "Permissions", in one place.

One rule says which rooms an identity may read (``readable_rooms``): holders of
``parley.read_all_rooms`` (staff, unless the host says otherwise) every room; a signed-in user
the public rooms and the private rooms they are a member of, minus every room they are banned
from; a guest (with ``PARLEY_GUESTS`` on) the public rooms that let guests in. Every read path
lists rooms, searches messages and counts unread ones through it, and the check of one room
(``check_can_read``, ``check_can_post``) asks the same rule about that room, so the two cannot
drift apart: a ban, a removal or a room made private takes the room away everywhere at once.

Rules return quietly or raise ``RoomAccessError`` with the protocol's error code. A private room
that the identity may not read is reported exactly like a room that does not exist, so its
existence does not leak. A user banned from a room reads and posts nothing there; a muted one
reads but does not post until the mute ends (imposed and lifted by ``parley.moderation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from parley.accounts.identity import Identity
from parley.accounts.permissions import ADD_ROOM, READ_ALL_ROOMS, holders
from parley.accounts.users import users
from parley.conf import parley_settings
from parley.rooms.models import Membership, Room, RoomBan, RoomMute
from parley.wire.errors import ParleyError


class RoomAccessError(ParleyError):
    """The identity may not do this in this room: ``forbidden``, or ``not_found`` for a room it may not see."""

    def __init__(self, code: Literal["forbidden", "not_found"], detail: str) -> None:
        super().__init__(code, detail)


def room_not_found(slug: str) -> RoomAccessError:
    return RoomAccessError("not_found", f"There is no room {slug!r}, or you are not a member of it.")


# --- the rule ------------------------------------------------------------------------------------


def readable_rooms(*, identity: Identity) -> QuerySet[Room]:
    """The rooms ``identity`` may read (subscribe to, page through, search, list, count): the one rule."""
    return Room.objects.filter(readable_by(identity))


def readable_by(identity: Identity) -> Q:
    """The rule as a condition on rooms, to filter any query of rooms with (``readable_rooms``)."""
    if identity.can(READ_ALL_ROOMS):
        return Q()
    if identity.user_id is None:
        return _guest_rooms()
    return _user_rooms(identity.user_id)


def readable_by_user_id(user_id: int) -> Q:
    """The rule for the user with this id, when only the id is at hand: whether they read every room
    is read by the query itself (a notification's recipient, an unread count's reader)."""
    reads_all = users().filter(holders(READ_ALL_ROOMS), pk=user_id)
    return Q(Exists(reads_all)) | _user_rooms(user_id)


def _user_rooms(user_id: int) -> Q:
    """Public rooms and the user's private rooms, less the rooms they are banned from.

    A ban ends the membership, but the rule does not lean on that: a membership added behind the
    services' back (the admin, a script) still does not open a room to someone banned from it.
    """
    member = Membership.objects.filter(room_id=OuterRef("pk"), user_id=user_id)
    banned = RoomBan.objects.filter(room_id=OuterRef("pk"), user_id=user_id)
    return (Q(is_private=False) | Q(Exists(member))) & ~Q(Exists(banned))


def _guest_rooms() -> Q:
    if not parley_settings.GUESTS:
        return Q(pk__in=[])
    return Q(is_private=False, guests_allowed=True)


def guests_may_use(room: Room) -> bool:
    """Whether guests may read and post in ``room``: the guests' part of the rule, read off the room."""
    return bool(parley_settings.GUESTS and room.guests_allowed and not room.is_private)


# --- the rule for one room -------------------------------------------------------------------


def check_can_read(*, room: Room, identity: Identity) -> None:
    """Raise unless ``identity`` may subscribe to ``room`` and read its history."""
    _check(room=room, identity=identity, posting=False)


def check_can_post(*, room: Room, identity: Identity) -> None:
    """Raise unless ``identity`` may post in ``room``: whoever may read it, unless muted there."""
    _check(room=room, identity=identity, posting=True)


def _check(*, room: Room, identity: Identity, posting: bool) -> None:
    """``readable_rooms`` asked about ``room``, and for a post the user's mute there as well.

    This runs on every post and subscribe, so it asks the database only what the room's own row
    cannot answer: guests are decided by the room's fields (guests have no user row to ban or
    mute), and so is a public room that never had a ban or a mute (``has_restrictions``: the rule
    has nothing to take away there). Only then does it matter whether the user reads every room,
    which their identity asks once and keeps. Otherwise the rule and the mute go out as one query.
    """
    user_id = identity.user_id
    if user_id is None:
        if room.is_private:
            raise room_not_found(room.slug)
        if not guests_may_use(room):
            raise RoomAccessError("forbidden", f"Guests cannot use room {room.slug!r}; sign in to read and post there.")
        return
    if not room.is_private and not room.has_restrictions:
        return
    if identity.can(READ_ALL_ROOMS):
        return
    found = _readable(room=room, identity=identity, user_id=user_id, mute=posting and room.has_restrictions)
    if found is None:
        raise _refusal(room=room, user_id=user_id)
    if found.muted_until is not None:
        raise RoomAccessError(
            "forbidden",
            f"You are muted in #{room.slug} until {found.muted_until:%Y-%m-%d %H:%M} UTC; "
            "you can read the room but not post until then.",
        )


@dataclass(frozen=True, slots=True)
class _Readable:
    """The rule let the user read the room; ``muted_until`` is the end of their running mute, if any."""

    muted_until: datetime | None


def _readable(*, room: Room, identity: Identity, user_id: int, mute: bool) -> _Readable | None:
    """None unless ``readable_rooms`` holds ``room``; with ``mute``, the user's running mute comes along."""
    rows = readable_rooms(identity=identity).filter(pk=room.pk)
    if not mute:
        return _Readable(muted_until=None) if rows.exists() else None
    running = RoomMute.objects.filter(room_id=OuterRef("pk"), user_id=user_id, until__gt=timezone.now())
    found = rows.annotate(muted_until=Subquery(running.values("until")[:1])).values_list("muted_until", flat=True)
    for muted_until in found[:1]:
        return _Readable(muted_until=muted_until)
    return None


def check_can_create_room(*, identity: Identity) -> None:
    """Raise ``RoomAccessError`` (forbidden) unless ``identity`` may create rooms: every signed-in
    user, or with ``PARLEY["ROOM_CREATION"] = "permitted"`` holders of ``parley.add_room`` only."""
    if identity.user is None:
        raise RoomAccessError("forbidden", "Sign in to create rooms.")
    if parley_settings.ROOM_CREATION == "permitted" and not identity.can(ADD_ROOM):
        raise RoomAccessError(
            "forbidden", "Creating rooms takes the 'parley.add_room' permission on this site; ask an administrator."
        )


def can_create_room(*, identity: Identity) -> bool:
    """Whether ``check_can_create_room`` lets ``identity`` through (pages offer the form only then)."""
    try:
        check_can_create_room(identity=identity)
    except RoomAccessError:
        return False
    return True


def _refusal(*, room: Room, user_id: int) -> RoomAccessError:
    """Why the rule refused a signed-in user ``room``: a private room they are not in looks missing;
    a public one can only have been refused for a ban (refusals are rare: a query of their own)."""
    if room.is_private or not RoomBan.objects.filter(room_id=room.pk, user_id=user_id).exists():
        return room_not_found(room.slug)  # private, or made private since ``room`` was read
    return RoomAccessError("forbidden", f"You are banned from #{room.slug}; you can no longer read or post there.")
