"""Writes of read state: moving a user's read marker forward, and telling all their sockets; and
telling the recipient of a direct message their new unread count."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.accounts.users import User
from parley.direct.models import DirectConversation
from parley.events.publish import publish_user_frame_on_commit
from parley.readstate.models import ReadMarker
from parley.readstate.selectors import Unread, unread_count, unread_counts
from parley.rooms.models import DIRECT_SLUG_PREFIX, Message, Room
from parley.rooms.selectors import room_head
from parley.wire import frames


@transaction.atomic
def read_marker_advance(*, user: User, room: Room, seq: int) -> Unread:
    """Mark ``room`` read up to ``seq`` for ``user`` and return their unread state there.

    The marker only moves forward: a ``seq`` at or below it changes nothing (an old tab reporting
    late must not un-read what a newer one read). A ``seq`` beyond the room's newest message is
    taken as the newest. When the marker moved, every socket of the user, on every server process,
    gets an ``unread`` frame after commit. Access is the caller's to check (``check_can_read``).
    """
    target = min(seq, room_head(room_id=room.pk))
    moved = _advance(user_id=user.pk, room_id=room.pk, target=target)
    state = unread_count(user_id=user.pk, room_id=room.pk)
    if moved:
        publish_user_frame_on_commit(user.pk, unread_frame(room=room, state=state))
    return state


def direct_unread_publish(*, message: Message) -> None:
    """When ``message`` was posted in a direct conversation, send the other person's sockets their
    new ``unread`` state there after commit, so a new direct message badges at once.

    Ordinary rooms push nothing per message (a frame per message per member, mostly to sockets that
    do not care; their room lists re-read the API instead). A conversation has exactly one reader
    besides the author: one frame. Call it inside the posting transaction, after the message is
    stored, so the count includes it.
    """
    room = message.room
    # Conversations live in private rooms named dm-<id>-<id>: every other message is ruled out
    # without a query, on the hottest write path.
    if not room.is_private or not room.slug.startswith(DIRECT_SLUG_PREFIX) or message.author_id is None:
        return
    conversation = DirectConversation.objects.filter(room_id=room.pk).only("user_low_id", "user_high_id").first()
    if conversation is None:
        return
    recipient = conversation.other_user_id(message.author_id)
    state = unread_counts(user_id=recipient, room_ids=[room.pk]).get(room.pk)
    if state is None:
        return  # the recipient may no longer read the conversation (they left it)
    publish_user_frame_on_commit(recipient, unread_frame(room=room, state=state))


def unread_frame(*, room: Room, state: Unread) -> dict[str, Any]:
    """The ``unread`` frame of ``state`` in ``room`` pushed to a user's sockets, in its model's shape
    (``parley.wire.frames.Unread``); pushed unasked, it answers no ``ref``."""
    return frames.Unread(room=room.slug, count=state.count, last_read=state.last_read).model_dump(exclude={"ref"})


def _advance(*, user_id: int, room_id: int, target: int) -> bool:
    """Move the marker up to ``target`` if it is below; whether it moved."""
    if target <= 0:
        return False  # a marker at 0 says what no marker says
    # A conditional UPDATE, not read-then-write: two tabs reading at once cannot move it back.
    ahead = ReadMarker.objects.filter(user_id=user_id, room_id=room_id, last_read__lt=target)
    if ahead.update(last_read=target, updated_at=timezone.now()):
        return True
    _, created = ReadMarker.objects.get_or_create(user_id=user_id, room_id=room_id, defaults={"last_read": target})
    if created:
        return True
    # Either it was at or past ``target`` already, or another transaction created it meanwhile.
    return bool(ahead.update(last_read=target, updated_at=timezone.now()))
