"""Writes of the chat domain: rooms, memberships and messages.

Every stored message is published to its room after the transaction commits, through the one
publishing function in ``parley.realtime.events``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection, transaction

from parley.accounts.identity import Identity
from parley.realtime.events import publish_message_on_commit
from parley.rooms.access import check_can_post, room_not_found
from parley.rooms.models import Membership, Message, Room


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
