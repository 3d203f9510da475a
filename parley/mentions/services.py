"""Turning a stored message's @mentions into ``mention`` notifications.

Runs as a background task after the message commits (``mentions.notify``), so finding the named
users and checking who may read the room never slows a send.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from channels.db import database_sync_to_async
from django.db import transaction
from django.db.models import Q

from parley.accounts.identity import user_identity
from parley.accounts.users import User, name_lookup, users_active
from parley.conf import parley_settings
from parley.mentions.kind import MENTION
from parley.mentions.parsing import mentioned_names, might_mention
from parley.notifications.models import Notification
from parley.notifications.services import notify
from parley.rooms.access import RoomAccessError, check_can_read
from parley.rooms.models import Message
from parley.tasks.queue import enqueue_on_commit
from parley.tasks.registry import TaskKind

EXCERPT_LENGTH = 140


def mention_excerpt(body: str) -> str:
    """The start of a body on one line, at most ``EXCERPT_LENGTH`` characters."""
    line = " ".join(body.split())
    return line if len(line) <= EXCERPT_LENGTH else line[: EXCERPT_LENGTH - 1] + "…"


def mentioned_readers(*, message: Message) -> list[User]:
    """The active users ``message`` mentions who may read its room, its author excepted."""
    names = mentioned_names(message.body)
    if not names:
        return []
    users = users_active().filter(reduce(or_, (Q(**{name_lookup("iexact"): name}) for name in names)))
    if message.author_id is not None:
        users = users.exclude(pk=message.author_id)
    readers = []
    for user in users.order_by("pk"):
        try:
            check_can_read(room=message.room, identity=user_identity(user))
        except RoomAccessError:
            continue  # naming someone in a room they cannot read tells them nothing
        readers.append(user)
    return readers


@transaction.atomic
def mentions_notify(*, message_id: int) -> list[int]:
    """Notify the users message ``message_id`` mentions and who were not notified of it before
    (an edit that names someone new notifies them alone); return their ids.

    Each gets a ``mention`` notification ``{room, seq, message_id, author, author_guest, excerpt}``, and after
    ``PARLEY_MENTION_EMAIL_DELAY`` seconds an e-mail check (``mentions.email``) runs for them.
    """
    message = Message.objects.select_related("room", "author").filter(pk=message_id).first()
    if message is None:
        return []
    # An edit queues this again: whoever the message named before was notified then.
    notified = set(
        Notification.objects.filter(kind=MENTION, data__message_id=message.pk).values_list("recipient_id", flat=True)
    )
    readers = [user for user in mentioned_readers(message=message) if user.pk not in notified]
    if not readers:
        return []
    author = message.guest_name if message.author is None else message.author.get_username()
    data = {
        "room": message.room.slug,
        "seq": message.seq,
        "message_id": message.pk,
        "author": author,
        # A guest's name is whatever they typed: every place that shows it says it is a guest's.
        "author_guest": message.author_id is None,
        "excerpt": mention_excerpt(message.body),
    }
    notify(readers, MENTION, data)
    user_ids = [user.pk for user in readers]
    enqueue_on_commit("mentions.email", delay=parley_settings.MENTION_EMAIL_DELAY, user_ids=user_ids)
    return user_ids


async def mentions_notify_run(message_id: int) -> None:
    """The ``mentions.notify`` task."""
    await database_sync_to_async(mentions_notify)(message_id=message_id)


MENTION_NOTIFICATIONS = TaskKind(name="mentions.notify", ids="message_id", run=mentions_notify_run)
"""Notifying the people a stored message mentions (queued after its commit)."""


def message_mentions_queue(*, message: Message) -> None:
    """A followup of every stored message and every edit (``parley.rooms.followups``): after
    commit, notify the people it mentions. A body without "@" costs one substring test."""
    if might_mention(message.body):
        enqueue_on_commit(MENTION_NOTIFICATIONS.name, message_id=message.pk)
