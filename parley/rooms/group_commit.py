"""Group commit: the plain sends that arrive together, stored in one transaction.

A post on its own is a transaction of its own: BEGIN, the seq, the message, COMMIT, each a round
trip, and a commit the database flushes to disk. Under load most of a process's time went to that
per-post overhead and to the thread hop around it (the ingest benchmark's profile). The transport
collects the sends that arrive while a commit is in flight (``parley.realtime.sends``) and stores
them here, together: one BEGIN and one COMMIT for all of them.

What a post promises is unchanged. Each message still takes its room's next seq under the room's
lock, in the order the sends arrived (so one room's messages keep their order); a repeated
``client_id``, in this batch or an earlier one, returns the first message; a refused send is
answered on its own, its seq given back, while the others are stored. Anything else that goes wrong
mid-batch rolls the whole batch back, and each send is then tried in a transaction of its own, so
that one message's failure never fails the others.

On PostgreSQL a batch costs three statements whatever its size: one locks its rooms (and reads
whether its senders are active), one looks for repeats, and one sets the rooms' counters, inserts
every message and makes the memberships posting makes. Statement by statement, two per send,
a batch's statements took about 3 ms per send on a loaded two-core machine, most of it waiting
for its turn on the database and the interpreter, not work. SQLite answers in-process, where a
statement costs little, so there each send keeps its own two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, connection, transaction

from parley.accounts.identity import Identity
from parley.rooms.access import room_not_found
from parley.rooms.models import Message, Room
from parley.rooms.services import PostResult, message_checked, message_send, message_store, message_stored
from parley.rooms.storage import (
    AUTHOR_ACTIVE,
    messages_insert,
    messages_sent_before,
    room_give_back_seq,
    room_take_next_seq,
    rooms_lock,
)
from parley.wire.errors import ParleyError


@dataclass(frozen=True)
class Send:
    """A plain send (no reply, no files): ``body`` from ``sender`` to the room ``slug``."""

    slug: str
    sender: Identity
    body: str
    client_id: str


Outcome = PostResult | Exception
"""A send's outcome: its result, or the error to answer it with (a ``ParleyError`` refusal, or
what the database raised)."""


def message_send_many(*, sends: Sequence[Send]) -> list[Outcome]:
    """Store ``sends`` in one transaction, each as ``message_send`` would; an outcome for each, in order.

    When the database cannot be reached, every send's outcome is that error (a retry with the same
    ``client_id`` is safe). Any other error rolls the batch back and each send is stored alone.

    The rooms are locked in the order of their slugs (a room's own sends keep their order), so
    that two batches committing at once, each waiting for a room the other holds, cannot deadlock.
    """
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                return _store_together(sends)
            order = sorted(range(len(sends)), key=lambda at: sends[at].slug)
            outcomes: list[Outcome | None] = [None] * len(sends)
            for at in order:
                outcomes[at] = _send_in_batch(sends[at])
    except (OperationalError, InterfaceError) as error:
        return [error for _ in sends]
    except Exception:
        return [_send_alone(send) for send in sends]
    return [outcome for outcome in outcomes if outcome is not None]


# Who may have stored a message with a given client_id in a room before: a user, or a guest with
# a guest id (a guest without one is a new sender every time, and its sends are never repeats).
_SenderKey = tuple[int, str, int | str, str]


def _sender_key(room_id: int, author_id: int | None, guest_id: str, client_id: str) -> _SenderKey | None:
    if author_id is not None:
        return (room_id, "user", author_id, client_id)
    return (room_id, "guest", guest_id, client_id) if guest_id else None


def _store_together(sends: Sequence[Send]) -> list[Outcome]:
    """The batch in a few statements (PostgreSQL), each send with what ``_send_in_batch`` would
    give it: its room's next seq in the order sent, its first message when it repeats one, its
    refusal when it may not post."""
    user_ids = sorted({send.sender.user_id for send in sends if send.sender.user_id is not None})
    rooms, active = rooms_lock(slugs=sorted({send.slug for send in sends}), author_ids=user_ids)
    keys = [
        _sender_key(rooms[send.slug].pk, send.sender.user_id, send.sender.guest_id, send.client_id)
        if send.slug in rooms
        else None
        for send in sends
    ]
    stored = _repeats_of([key for key in keys if key is not None], rooms)
    outcomes: list[Outcome] = []
    fresh: list[Message] = []
    members: set[tuple[int, int]] = set()
    for send, key in zip(sends, keys, strict=True):
        room = rooms.get(send.slug)
        if room is None:
            outcomes.append(room_not_found(send.slug))
            continue
        setattr(room, AUTHOR_ACTIVE, send.sender.user_id in active)
        room.last_seq += 1
        try:
            message = message_checked(room, sender=send.sender, body=send.body, client_id=send.client_id)
        except ParleyError as refusal:
            room.last_seq -= 1
            outcomes.append(refusal)
            continue
        if send.sender.user_id is not None and not room.is_private:
            members.add((room.pk, send.sender.user_id))  # a repeat joins again, as when stored alone
        first = stored.get(key) if key is not None else None
        if first is not None:
            room.last_seq -= 1
            outcomes.append(PostResult(message=first, created=False))
            continue
        if key is not None:
            stored[key] = message
        fresh.append(message)
        outcomes.append(PostResult(message=message, created=True))
    heads = {message.room_id: message.seq for message in fresh}  # each room's last fresh seq
    messages_insert(fresh, members=sorted(members), heads=heads)
    for message in fresh:
        message_stored(message)
    return outcomes


def _repeats_of(keys: list[_SenderKey], rooms: dict[str, Room]) -> dict[_SenderKey, Message]:
    """The stored messages with these sender keys (their rooms are locked, so no other
    transaction can store one meanwhile)."""
    by_users = [(room_id, int(sender), client_id) for room_id, kind, sender, client_id in keys if kind == "user"]
    by_guests = [(room_id, str(sender), client_id) for room_id, kind, sender, client_id in keys if kind == "guest"]
    by_id = {room.pk: room for room in rooms.values()}
    found: dict[_SenderKey, Message] = {}
    for message in messages_sent_before(by_users=by_users, by_guests=by_guests):
        message.room = by_id[message.room_id]
        key = _sender_key(message.room_id, message.author_id, message.guest_id, message.client_id)
        if key is not None:
            found[key] = message
    return found


def _send_in_batch(send: Send) -> Outcome:
    room = room_take_next_seq(slug=send.slug, author_id=send.sender.user_id)
    if room is None:
        return room_not_found(send.slug)
    try:
        message = message_checked(room, sender=send.sender, body=send.body, client_id=send.client_id)
    except ParleyError as refusal:
        room_give_back_seq(room.pk)
        return refusal
    result = message_store(message, sender=send.sender)
    if not result.created:
        room_give_back_seq(room.pk)
    return result


def _send_alone(send: Send) -> Outcome:
    try:
        return message_send(slug=send.slug, sender=send.sender, body=send.body, client_id=send.client_id)
    except Exception as error:
        return error
