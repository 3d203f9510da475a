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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, transaction

from parley.accounts.identity import Identity
from parley.rooms.access import room_not_found
from parley.rooms.services import PostResult, message_checked, message_send, message_store
from parley.rooms.storage import room_give_back_seq, room_take_next_seq
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
    order = sorted(range(len(sends)), key=lambda at: sends[at].slug)
    outcomes: list[Outcome | None] = [None] * len(sends)
    try:
        with transaction.atomic():
            for at in order:
                outcomes[at] = _send_in_batch(sends[at])
    except (OperationalError, InterfaceError) as error:
        return [error for _ in sends]
    except Exception:
        return [_send_alone(send) for send in sends]
    return [outcome for outcome in outcomes if outcome is not None]


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
