"""Who may read and post in which room: DESIGN.md's permission table, in one place.

Rules return quietly or raise ``RoomAccessError`` with the protocol's error code. A private room
that the identity may not read is reported exactly like a room that does not exist, so its
existence does not leak.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings

from parley.accounts.identity import Identity
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
    if identity.is_staff:
        return
    if room.is_private:
        if not is_member(room=room, identity=identity):
            raise room_not_found(room.slug)
        return
    if identity.is_guest and not guests_may_use(room):
        raise RoomAccessError("forbidden", f"Guests cannot use room {room.slug!r}; sign in to read and post there.")


def check_can_post(*, room: Room, identity: Identity) -> None:
    """Raise unless ``identity`` may post in ``room``. Reading and posting follow the same rule."""
    check_can_read(room=room, identity=identity)


def guests_may_use(room: Room) -> bool:
    return bool(settings.PARLEY_GUESTS and room.guests_allowed and not room.is_private)
