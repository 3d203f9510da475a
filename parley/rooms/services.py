"""Writes of the chat domain: rooms, memberships and messages.

Every stored message is published to its room after the transaction commits, through the one
publishing function in ``parley.events.publish``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from parley.accounts.identity import Identity
from parley.accounts.users import User
from parley.events.publish import (
    publish_message_on_commit,
    publish_room_closed_on_commit,
    publish_room_frame_on_commit,
)
from parley.rooms.access import RoomAccessError, check_can_post, room_not_found
from parley.rooms.attachments import (
    attachments_attach,
    attachments_data,
    attachments_delete_on_commit,
    room_attachments_delete_on_commit,
)
from parley.rooms.followups import message_edit_followups, message_followups
from parley.rooms.models import Membership, Message, MessageEdit, Reaction, Room
from parley.rooms.selectors import is_moderator, room_get
from parley.rooms.storage import AUTHOR_ACTIVE, message_insert_unless_repeated, room_take_next_seq
from parley.wire.errors import ParleyError
from parley.wire.frames import Reactions, ThreadUpdated
from parley.wire.serializers import message_updated_frame, published_frame
from parley.wire.text import MAX_REACTIONS_PER_MESSAGE


@dataclass(frozen=True)
class PostResult:
    """The stored message, and whether this call stored it (False: a retry of an earlier send)."""

    message: Message
    created: bool


@dataclass(frozen=True)
class PostExtras:
    """What a message may carry besides its body: the seq it replies to, and uploads to attach."""

    reply_to: int | None = None
    attachments: tuple[int, ...] = ()


NO_EXTRAS = PostExtras()


@transaction.atomic
def message_post(
    *, room: Room, sender: Identity, body: str, client_id: str, extras: PostExtras = NO_EXTRAS
) -> PostResult:
    """Store a message from ``sender`` in ``room`` with the room's next seq, and publish it.

    A second call with the same ``client_id`` from the same sender stores nothing and returns
    the first message. Posting in a public room makes a signed-in sender a member. ``extras``:
    a reply's original and the sender's uploads to attach (``message_post`` refuses, storing
    nothing, an original that is not in the room or an upload that is not the sender's).
    """
    locked = room_take_next_seq(pk=room.pk, author_id=sender.user_id)
    if locked is None:
        raise room_not_found(room.slug)
    return _post_in_locked_room(locked, sender=sender, body=body, client_id=client_id, extras=extras)


@transaction.atomic
def message_send(
    *, slug: str, sender: Identity, body: str, client_id: str, extras: PostExtras = NO_EXTRAS
) -> PostResult:
    """Post to the room named ``slug``: what a client's send does, in one call.

    Raises ``RoomAccessError`` when the room does not exist or ``sender`` may not post there.
    """
    locked = room_take_next_seq(slug=slug, author_id=sender.user_id)
    if locked is None:
        raise room_not_found(slug)
    return _post_in_locked_room(locked, sender=sender, body=body, client_id=client_id, extras=extras)


def _post_in_locked_room(room: Room, *, sender: Identity, body: str, client_id: str, extras: PostExtras) -> PostResult:
    """The rest of a post, once ``room_take_next_seq`` has locked ``room`` and counted its seq.

    A refused or repeated post raises or rolls back, which also gives the seq back: seqs stay
    gapless. Every statement here is on the path of every message, so there are few: with the
    transaction's BEGIN and COMMIT, a post costs four round trips to PostgreSQL. A reply or a
    message with files costs a few more, and only those.
    """
    message = message_checked(room, sender=sender, body=body, client_id=client_id, reply_to=extras.reply_to)
    result = message_store(message, sender=sender, attachments=extras.attachments)
    if not result.created:
        transaction.set_rollback(True)  # gives the seq back
    return result


def message_checked(room: Room, *, sender: Identity, body: str, client_id: str, reply_to: int | None = None) -> Message:
    """The message ``sender`` posts in ``room``, locked with its seq counted, not yet stored; raises
    ``RoomAccessError``, having written nothing, when ``sender`` may not post it."""
    if sender.user is not None and not getattr(room, AUTHOR_ACTIVE, True):
        # Deactivated (or deleted) since the connection signed in: its sockets are being closed.
        raise RoomAccessError("forbidden", "This account is deactivated; nothing was stored.")
    check_can_post(room=room, identity=sender)
    return Message(
        room=room,
        seq=room.last_seq,
        author=sender.user,
        guest_name=sender.guest_name,
        guest_id=sender.guest_id,
        body=body,
        client_id=client_id,
        created_at=timezone.now(),
        reply_to=None if reply_to is None else _thread_original(room, reply_to),
    )


def message_store(message: Message, *, sender: Identity, attachments: tuple[int, ...] = ()) -> PostResult:
    """Store ``message`` from ``message_checked``, attach ``attachments``, and publish it after
    commit; or, when its sender stored its ``client_id`` in the room before, store nothing and
    return that first message (``created`` False: the caller gives the seq back)."""
    room = message.room
    message.has_attachments = bool(attachments)
    # Posting in a public room makes a signed-in sender a member, in the insert's own round trip.
    member = sender.user is not None and not room.is_private
    if not message_insert_unless_repeated(message, member=member):
        return PostResult(
            message=_message_by_client_id(room=room, sender=sender, client_id=message.client_id), created=False
        )
    attached: list[dict[str, Any]] | None = None
    if attachments:
        attached = attachments_data(attachments_attach(message=message, sender=sender, ids=list(attachments)))
    message_stored(message, attachments=attached)
    return PostResult(message=message, created=True)


def message_stored(message: Message, *, attachments: list[dict[str, Any]] | None = None) -> None:
    """What follows a message's insert in its transaction: its publishing after commit (with its
    ``attachments`` in wire shape), a reply counted in its thread, and the followups."""
    publish_message_on_commit(message, attachments=attachments)
    if message.reply_to is not None:
        _thread_count_change(message.room, original=message.reply_to, by=1, last_reply=message.seq)
    message_followups(message)


def _thread_original(room: Room, seq: int) -> int:
    """The seq of the thread a reply to message ``seq`` joins: ``seq``'s own, or the thread ``seq`` is in."""
    if seq >= room.last_seq:
        raise RoomAccessError("not_found", f"Room {room.slug!r} has no message {seq} to reply to.")
    row = Message.objects.filter(room=room, seq=seq).values_list("reply_to", "deleted_at").first()
    if row is None:
        raise RoomAccessError("not_found", f"Room {room.slug!r} has no message {seq} to reply to.")
    original, deleted_at = row
    if deleted_at is not None and original is None:
        raise RoomAccessError("forbidden", f"Message {seq} was deleted; it cannot be replied to.")
    return seq if original is None else int(original)


def _thread_count_change(room: Room, *, original: int, by: int, last_reply: int | None) -> None:
    """Count a reply in (``by`` 1) or out (-1) of its thread's original and tell the room the new
    count and newest reply after commit.

    The caller holds the room's row locked (a post does; ``message_delete`` takes it for a reply),
    so one thread's replies are counted one at a time and the count sent is the count stored.
    """
    rows = Message.objects.filter(room=room, seq=original)
    rows.update(thread_count=Greatest(F("thread_count") + by, 0))
    count = rows.values_list("thread_count", flat=True).get()
    frame = ThreadUpdated(room=room.slug, seq=original, thread_count=count, last_reply=last_reply)
    publish_room_frame_on_commit(room.pk, published_frame(frame))


def _message_by_client_id(*, room: Room, sender: Identity, client_id: str) -> Message:
    messages = Message.objects.filter(room=room, client_id=client_id)
    if sender.user is not None:
        return messages.get(author_id=sender.user_id)
    return messages.get(author__isnull=True, guest_id=sender.guest_id)


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
    room = room_get(slug=slug)
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


class RoomCreateError(ParleyError):
    """A room that cannot be created as asked (``invalid``); ``detail`` is a sentence a person can act on."""

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__("invalid", detail, status=status)


class RoomSlugTaken(RoomCreateError):
    """The slug asked for belongs to a room already (answered with HTTP 409)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, status=409)


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


@dataclass(frozen=True)
class RoomDeleted:
    """What ``room_delete`` removed: the room's messages and its attachments (whose files go after commit)."""

    messages: int
    attachments: int


# Messages deleted at a time by ``room_delete``: Django's delete reads the rows it cascades from.
ROOM_DELETE_BATCH = 1000


@transaction.atomic
def room_delete(*, room: Room) -> RoomDeleted:
    """Delete ``room`` with everything in it, in one transaction: its messages (with their edits,
    reactions and webhook deliveries) ``ROOM_DELETE_BATCH`` at a time, so that a room of a million
    messages is never in memory; its attachments, whose files are deleted once the transaction
    commits; memberships, bans, mutes, read markers, webhooks. Sockets following it are told (a
    ``forbidden`` error, then ``unsubscribed``). What the admin's delete does too.
    """
    locked = Room.objects.select_for_update().filter(pk=room.pk).first()
    if locked is None:
        return RoomDeleted(messages=0, attachments=0)
    attachments = room_attachments_delete_on_commit(room=locked)
    messages = 0
    # Seqs run 1..last_seq with no gaps, and the room's lock holds posts off: ranges of seq are batches.
    for start in range(0, locked.last_seq, ROOM_DELETE_BATCH):
        batch = Message.objects.filter(room=locked, seq__gt=start, seq__lte=start + ROOM_DELETE_BATCH)
        messages += batch.delete()[1].get(Message._meta.label, 0)
    publish_room_closed_on_commit(locked.pk, (), f"#{locked.slug} was deleted.")
    locked.delete()
    return RoomDeleted(messages=messages, attachments=attachments)


class MembershipError(ParleyError):
    """A membership change that is refused (``forbidden``); ``detail`` is a sentence a person can act on."""

    def __init__(self, detail: str) -> None:
        super().__init__("forbidden", detail)


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

    A missing or forbidden room (``RoomAccessError``) raises inside the transaction, which then
    stores nothing at all. Each room sees ``client_id`` once, so a retried broadcast stores nothing
    new.
    """
    with transaction.atomic():
        return [message_send(slug=slug, sender=sender, body=body, client_id=client_id) for slug in slugs]


# --- edits, deletes and reactions ------------------------------------------------------------


@dataclass(frozen=True)
class MessageChange:
    """A message after an edit or delete, and whether this call changed it (False: nothing to do)."""

    message: Message
    changed: bool


def _message_for_change(*, room: Room, actor: Identity, seq: int) -> Message:
    """Message ``seq`` of a room ``actor`` may still use, locked until commit (PostgreSQL), or raise."""
    check_can_post(room=room, identity=actor)
    # of=("self",): PostgreSQL cannot lock the nullable side of the author join, and needs only the message row.
    rows = Message.objects.select_for_update(of=("self",)).select_related("room", "author")
    message = rows.filter(room=room, seq=seq).first()
    if message is None:
        raise RoomAccessError("not_found", f"Room {room.slug!r} has no message {seq}.")
    return message


def _is_author(message: Message, identity: Identity) -> bool:
    if identity.user is not None:
        return message.author_id == identity.user_id
    return message.author_id is None and bool(identity.guest_id) and message.guest_id == identity.guest_id


@transaction.atomic
def message_edit(*, room: Room, editor: Identity, seq: int, body: str) -> MessageChange:
    """Replace the body of ``editor``'s own message ``seq``, keep the old body in its history, and
    tell the room after commit. An unchanged body stores and publishes nothing.

    ``body`` was checked where it came in (the ``edit`` frame's model, ``validate_body`` in the
    API). Raises ``RoomAccessError`` (not_found: no such room for ``editor`` or no such seq;
    forbidden: someone else's message, or a deleted one, or ``editor`` may not post in ``room``).
    """
    message = _message_for_change(room=room, actor=editor, seq=seq)
    if not _is_author(message, editor):
        raise RoomAccessError("forbidden", "You can edit only your own messages.")
    if message.deleted_at is not None:
        raise RoomAccessError("forbidden", "This message was deleted; it cannot be edited.")
    if message.body == body:
        return MessageChange(message=message, changed=False)
    now = _keep_previous_body(message, MessageEdit.Action.EDIT, by=editor)
    message.body, message.edited_at = body, now
    message.save(update_fields=["body", "edited_at"])
    publish_room_frame_on_commit(room.pk, published_frame(message_updated_frame(message)))
    message_edit_followups(message)
    return MessageChange(message=message, changed=True)


@transaction.atomic
def message_delete(*, room: Room, actor: Identity, seq: int) -> MessageChange:
    """Delete message ``seq``: ``actor``'s own, or any when ``actor`` moderates the room (owner,
    moderator, staff). The message keeps its seq; its body is blanked and moves to its history
    (for moderators), its reactions and files are removed, and the room is told after commit; a
    deleted reply no longer counts in its thread (a ``thread`` frame says so). Deleting a deleted
    message changes nothing.
    """
    message = _message_for_change(room=room, actor=actor, seq=seq)
    if not _is_author(message, actor) and not is_moderator(room=room, identity=actor):
        raise RoomAccessError("forbidden", "You can delete only your own messages (moderators: any message).")
    if message.deleted_at is not None:
        return MessageChange(message=message, changed=False)
    now = _keep_previous_body(message, MessageEdit.Action.DELETE, by=actor)
    message.body, message.deleted_at = "", now
    if message.has_attachments:
        attachments_delete_on_commit(message=message)
        message.has_attachments = False
    message.save(update_fields=["body", "deleted_at", "has_attachments"])
    Reaction.objects.filter(message=message).delete()
    publish_room_frame_on_commit(room.pk, published_frame(message_updated_frame(message)))
    if message.reply_to is not None:
        _thread_reply_deleted(room, original=message.reply_to)
    return MessageChange(message=message, changed=True)


def _thread_reply_deleted(room: Room, *, original: int) -> None:
    """A reply of thread ``original`` was deleted: it no longer counts, and the newest reply is
    the newest one still there (none: ``last_reply`` null)."""
    # The lock a post takes (``room_take_next_seq``), so a reply posted meanwhile counts after this.
    Room.objects.select_for_update().filter(pk=room.pk).values_list("pk", flat=True).get()
    live = Message.objects.filter(room=room, reply_to=original, deleted_at__isnull=True)
    last_reply = live.order_by("-seq").values_list("seq", flat=True).first()
    _thread_count_change(room, original=original, by=-1, last_reply=last_reply)


def _keep_previous_body(message: Message, action: str, *, by: Identity) -> datetime:
    """Put the body ``message`` has now into its history (for moderators); return the change's time."""
    now = timezone.now()
    MessageEdit.objects.create(
        message=message, action=action, previous_body=message.body, edited_by=by.user, edited_at=now
    )
    return now


@dataclass(frozen=True)
class ReactionState:
    """A message's reactions after a change: counts by emoji, and each reactor's own emoji."""

    message: Message
    counts: dict[str, int]
    mine_by_user: dict[int, list[str]]
    changed: bool

    def mine(self, user_id: int | None) -> list[str]:
        """The emoji ``user_id`` put on the message."""
        return [] if user_id is None else self.mine_by_user.get(user_id, [])

    def frame(self, user_id: int | None = None, ref: str | int | None = None) -> Reactions:
        """The ``reactions`` frame as ``user_id`` gets it (``mine``: their own emoji; none for
        everyone else, who get theirs through ``personal``)."""
        message = self.message
        return Reactions(ref=ref, room=message.room.slug, seq=message.seq, counts=self.counts, mine=self.mine(user_id))


@transaction.atomic
def reaction_set(*, room: Room, user: Identity, seq: int, emoji: str, on: bool) -> ReactionState:
    """Put ``emoji`` on message ``seq`` for ``user`` (``on``) or take it off, and tell the room after
    commit, each reactor with their own ``mine``. Doing what is already done changes nothing.

    Signed-in users only (a guest has no row to react with): guests get forbidden. A deleted
    message takes no reactions, and a message takes at most ``MAX_REACTIONS_PER_MESSAGE``
    different emoji. ``emoji`` was checked where it came in (the ``react`` frame's model, the API's
    path pattern). Raises ``RoomAccessError`` and ``ParleyError`` (the cap).
    """
    if user.user is None:
        raise RoomAccessError("forbidden", "Sign in to react to messages; guests cannot.")
    # Locking the message serialises reactions to it, so the cap on distinct emoji holds.
    message = _message_for_change(room=room, actor=user, seq=seq)
    if message.deleted_at is not None:
        raise RoomAccessError("forbidden", "This message was deleted; it cannot take reactions.")
    existing = Reaction.objects.filter(message=message, user=user.user, emoji=emoji)
    changed = False
    if on and not existing.exists():
        emoji_in_use = set(Reaction.objects.filter(message=message).values_list("emoji", flat=True).distinct())
        if emoji not in emoji_in_use and len(emoji_in_use) >= MAX_REACTIONS_PER_MESSAGE:
            raise ParleyError(
                "invalid",
                f"This message has {MAX_REACTIONS_PER_MESSAGE} different reactions already; add one of those instead.",
            )
        Reaction.objects.create(message=message, user=user.user, emoji=emoji)
        changed = True
    elif not on:
        changed = existing.delete()[0] > 0
    state = _reaction_state(message, changed=changed)
    if changed:
        personal = {str(user_id): {"mine": mine} for user_id, mine in state.mine_by_user.items()}
        publish_room_frame_on_commit(room.pk, published_frame(state.frame()), personal=personal)
    return state


def _reaction_state(message: Message, *, changed: bool) -> ReactionState:
    counts: dict[str, int] = {}
    mine_by_user: dict[int, list[str]] = {}
    for user_id, emoji in Reaction.objects.filter(message=message).order_by("id").values_list("user_id", "emoji"):
        counts[emoji] = counts.get(emoji, 0) + 1
        mine_by_user.setdefault(user_id, []).append(emoji)
    return ReactionState(message=message, counts=counts, mine_by_user=mine_by_user, changed=changed)
