"""Writes of the chat domain: rooms, memberships and messages.

Every stored message is published to its room after the transaction commits, through the one
publishing function in ``parley.realtime.events``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from parley.accounts.identity import Identity
from parley.realtime.events import publish_message_on_commit
from parley.rooms.access import check_can_post, room_not_found
from parley.rooms.models import Membership, Message, Room
from parley.tasks.followups import message_followups


@dataclass(frozen=True)
class PostResult:
    """The stored message, and whether this call stored it (False: a retry of an earlier send)."""

    message: Message
    created: bool


@transaction.atomic
def message_post(*, room: Room, sender: Identity, body: str, client_id: str) -> PostResult:
    """Store a message from ``sender`` in ``room`` with the room's next seq, and publish it.

    A second call with the same ``client_id`` from the same sender stores nothing and returns
    the first message. Posting in a public room makes a signed-in sender a member.
    """
    check_can_post(room=room, identity=sender)
    # Taking the next seq first locks the room row (PostgreSQL) or the database (SQLite) until
    # commit, so seqs are handed out in commit order and the duplicate check below cannot race.
    seq = _take_next_seq(room)
    existing = _message_by_client_id(room=room, sender=sender, client_id=client_id)
    if existing is not None:
        transaction.set_rollback(True)
        return PostResult(message=existing, created=False)
    if sender.user is not None and not room.is_private:
        Membership.objects.get_or_create(room=room, user=sender.user)
    message = Message.objects.create(
        room=room,
        seq=seq,
        author=sender.user,
        guest_name=sender.guest_name,
        guest_id=sender.guest_id,
        body=body,
        client_id=client_id,
    )
    publish_message_on_commit(message)
    message_followups(message)
    return PostResult(message=message, created=True)


def _take_next_seq(room: Room) -> int:
    """Add one to the room's counter and return it, in one statement.

    ``UPDATE … RETURNING`` (PostgreSQL; SQLite 3.35 and later) does in one round trip what the
    ORM needs an update and a select for, on the hottest write of all.
    """
    table = connection.ops.quote_name(Room._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq", [room.pk])
        row = cursor.fetchone()
    return int(row[0])


def _message_by_client_id(*, room: Room, sender: Identity, client_id: str) -> Message | None:
    messages = Message.objects.filter(room=room, client_id=client_id)
    if sender.user is not None:
        return messages.filter(author_id=sender.user_id).first()
    return messages.filter(author__isnull=True, guest_id=sender.guest_id).first()


@dataclass(frozen=True)
class RoomResult:
    room: Room
    created: bool


@transaction.atomic
def room_get_or_create(
    *,
    slug: str,
    title: str = "",
    is_private: bool = False,
    guests_allowed: bool = False,
    creator: User | None = None,
) -> RoomResult:
    """Return the room ``slug``, creating it with these settings (and ``creator`` as owner) if absent.

    An existing room is returned unchanged: calling this twice is safe.
    """
    room = Room.objects.filter(slug=slug).first()
    if room is not None:
        return RoomResult(room=room, created=False)
    room = Room(slug=slug, title=title, is_private=is_private, guests_allowed=guests_allowed, created_by=creator)
    room.full_clean()
    room.save()
    if creator is not None:
        Membership.objects.create(room=room, user=creator, role=Membership.Role.OWNER)
    return RoomResult(room=room, created=True)


def membership_join(*, room: Room, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    """Make ``user`` a member of ``room`` (keeping an existing role)."""
    membership, _ = Membership.objects.get_or_create(room=room, user=user, defaults={"role": role})
    return membership


def message_send(*, slug: str, sender: Identity, body: str, client_id: str) -> PostResult:
    """Post to the room named ``slug``: what a client's send does, in one call.

    Raises ``RoomAccessError`` when the room does not exist or ``sender`` may not post there.
    """
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise room_not_found(slug)
    return message_post(room=room, sender=sender, body=body, client_id=client_id)


class RoomCreateError(ValueError):
    """A room that cannot be created as asked; ``detail`` is a sentence a person can act on."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RoomSlugTaken(RoomCreateError):
    """The slug asked for belongs to a room already."""


@transaction.atomic
def room_create(
    *, slug: str, creator: User, title: str = "", is_private: bool = False, guests_allowed: bool = False
) -> Room:
    """Create the room ``slug`` with ``creator`` as its owner, or raise ``RoomCreateError``.

    Unlike ``room_get_or_create``, an existing slug is an error: the caller asked for a new room.
    """
    if Room.objects.filter(slug=slug).exists():
        raise RoomSlugTaken(f"A room {slug!r} already exists; choose another slug.")
    room = Room(slug=slug, title=title, is_private=is_private, guests_allowed=guests_allowed, created_by=creator)
    try:
        room.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise RoomCreateError(f"Field {field!r}: {' '.join(messages)}") from None
    try:
        # A savepoint, so that losing a race for the slug leaves the outer transaction usable.
        with transaction.atomic():
            room.save()
    except IntegrityError:
        raise RoomSlugTaken(f"A room {slug!r} already exists; choose another slug.") from None
    Membership.objects.create(room=room, user=creator, role=Membership.Role.OWNER)
    return room


class MembershipError(ValueError):
    """A membership change that is refused; ``detail`` is a sentence a person can act on."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@transaction.atomic
def membership_leave(*, room: Room, user: User) -> bool:
    """Remove ``user`` from ``room``; False when they were not a member (nothing to do).

    The last owner cannot leave: a private room without members would be reachable by staff only.
    """
    membership = Membership.objects.select_for_update().filter(room=room, user=user).first()
    if membership is None:
        return False
    if membership.role == Membership.Role.OWNER:
        owners = Membership.objects.filter(room=room, role=Membership.Role.OWNER).count()
        if owners == 1:
            raise MembershipError(
                f"You are the only owner of room {room.slug!r}; an owner cannot leave the room they own."
            )
    membership.delete()
    return True


def message_broadcast(*, slugs: list[str], sender: Identity, body: str, client_id: str) -> list[PostResult]:
    """Post the same message from ``sender`` to every room in ``slugs``, in one transaction.

    Every room is looked up and checked before anything is stored, so a missing or forbidden
    room (``RoomAccessError``) stores nothing at all. Each room sees ``client_id`` once, so a
    retried broadcast stores nothing new.
    """
    with transaction.atomic():
        rooms = {room.slug: room for room in Room.objects.filter(slug__in=slugs)}
        for slug in slugs:
            room = rooms.get(slug)
            if room is None:
                raise room_not_found(slug)
            check_can_post(room=room, identity=sender)
        return [message_post(room=rooms[slug], sender=sender, body=body, client_id=client_id) for slug in slugs]
