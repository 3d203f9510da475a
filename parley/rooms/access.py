"""Who may read and post in which room: DESIGN.md's permission table, in one place.

Rules return quietly or raise ``RoomAccessError`` with the protocol's error code. A private room
that the identity may not read is reported exactly like a room that does not exist, so its
existence does not leak. A user banned from a room reads and posts nothing there; a muted one
reads but does not post until the mute ends (``parley.moderation``).
"""

from __future__ import annotations

from typing import Literal

from parley.accounts.identity import Identity
from parley.conf import parley_settings
from parley.moderation.selectors import room_restriction
from parley.rooms.models import Membership, Room


class RoomAccessError(Exception):
    """The identity may not do this in this room; ``code`` is the protocol's error code."""

    def __init__(self, code: Literal["forbidden", "not_found"], detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def room_not_found(slug: str) -> RoomAccessError:
    return RoomAccessError("not_found", f"There is no room {slug!r}, or you are not a member of it.")


def is_member(*, room: Room, identity: Identity) -> bool:
    return identity.user is not None and Membership.objects.filter(room=room, user=identity.user).exists()


def check_can_read(*, room: Room, identity: Identity) -> None:
    """Raise unless ``identity`` may subscribe to ``room`` and read its history."""
    _check(room=room, identity=identity, posting=False)


def check_can_post(*, room: Room, identity: Identity) -> None:
    """Raise unless ``identity`` may post in ``room``: whoever may read it, unless muted there."""
    _check(room=room, identity=identity, posting=True)


def _check(*, room: Room, identity: Identity, posting: bool) -> None:
    if identity.is_staff:
        return
    if room.is_private:
        if not is_member(room=room, identity=identity):
            raise room_not_found(room.slug)
    elif identity.is_guest and not guests_may_use(room):
        raise RoomAccessError("forbidden", f"Guests cannot use room {room.slug!r}; sign in to read and post there.")
    if identity.user_id is None or not room.has_restrictions:
        return  # guests have no user row to ban or mute; most rooms never had a ban or a mute
    # A ban ends the membership and a banned user cannot be invited back, so in a private room
    # being a member already means "not banned": only a public room needs the ban looked up.
    # Posting adds the mute; both go out as one indexed query (``room_restriction``).
    restriction = room_restriction(room_id=room.pk, user_id=identity.user_id, ban=not room.is_private, mute=posting)
    if restriction is None:
        return
    if restriction.banned:
        raise RoomAccessError("forbidden", f"You are banned from #{room.slug}; you can no longer read or post there.")
    assert restriction.until is not None
    raise RoomAccessError(
        "forbidden",
        f"You are muted in #{room.slug} until {restriction.until:%Y-%m-%d %H:%M} UTC; "
        "you can read the room but not post until then.",
    )


def guests_may_use(room: Room) -> bool:
    return bool(parley_settings.GUESTS and room.guests_allowed and not room.is_private)
