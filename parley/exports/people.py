"""Everything Parley holds about a person, as a JSON archive they download themselves.

Their account as Parley sees it, the rooms they belong to, every message they wrote (with its
edit history and attachments), their reactions, uploads, notifications, read markers, API tokens
(never a secret: only Parley's digest exists), the webhooks they registered (without secrets),
their direct conversations, and the bans and mutes placed on them. What other people wrote is
not theirs and is left out, except where it is the record of something done to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q
from django.utils import timezone

from parley.accounts.models import ApiToken
from parley.accounts.users import User
from parley.direct.models import DirectConversation
from parley.exports.archive import batches, each, json_object
from parley.notifications.models import Notification
from parley.readstate.models import ReadMarker
from parley.rooms.attachments import attachments_data, attachments_of
from parley.rooms.models import Attachment, Membership, Message, MessageEdit, Reaction, RoomBan, RoomMute
from parley.webhooks.models import Webhook
from parley.wire.serializers import iso_time, message_data

ARCHIVE_VERSION = 1
ACCOUNT_FIELDS = ("username", "email", "first_name", "last_name", "date_joined", "last_login", "is_active")


def person_archive(*, user: User) -> Iterator[bytes]:
    """``user``'s archive as pieces of one JSON document; rows are read as the pieces are taken."""
    yield from json_object(
        [
            ("format", "parley.person-archive"),
            ("version", ARCHIVE_VERSION),
            ("exported_at", iso_time(timezone.now())),
            ("account", _account(user)),
            ("memberships", each(Membership.objects.filter(user=user).select_related("room"), _membership)),
            ("messages", _messages(user)),
            ("reactions", each(Reaction.objects.filter(user=user).select_related("message__room"), _reaction)),
            ("uploads", each(Attachment.objects.filter(uploader=user).select_related("room"), _upload)),
            ("notifications", each(Notification.objects.filter(recipient=user), _notification)),
            ("read_markers", each(ReadMarker.objects.filter(user=user).select_related("room"), _read_marker)),
            ("api_tokens", each(ApiToken.objects.filter(user=user), _token)),
            ("webhooks", each(Webhook.objects.filter(created_by=user).select_related("room"), _webhook)),
            ("direct_conversations", each(_directs(user), lambda direct: _direct(direct, user))),
            ("bans", each(RoomBan.objects.filter(user=user).select_related("room"), _restriction)),
            ("mutes", each(RoomMute.objects.filter(user=user).select_related("room"), _restriction)),
        ]
    )


def _account(user: User) -> dict[str, Any]:
    account: dict[str, Any] = {"id": user.pk}
    for name in ACCOUNT_FIELDS:
        if hasattr(user, name):
            value = getattr(user, name)
            account[name] = iso_time(value) if hasattr(value, "isoformat") else value
    return account


def _membership(membership: Membership) -> dict[str, Any]:
    return {"room": membership.room.slug, "role": membership.role, "joined_at": iso_time(membership.joined_at)}


def _messages(user: User) -> Iterator[dict[str, Any]]:
    for batch in batches(Message.objects.filter(author=user).select_related("room", "author")):
        ids = [message.pk for message in batch]
        files = attachments_of(message_ids=[message.pk for message in batch if message.has_attachments])
        edits: dict[int, list[dict[str, Any]]] = {}
        for edit in MessageEdit.objects.filter(message_id__in=ids).order_by("edited_at", "id"):
            edits.setdefault(edit.message_id, []).append(
                {"action": edit.action, "previous_body": edit.previous_body, "edited_at": iso_time(edit.edited_at)}
            )
        for message in batch:
            data = message_data(message, attachments=files.get(message.pk))
            for name in ("reactions", "mine"):
                data.pop(name)
            data["edits"] = edits.get(message.pk, [])
            yield data


def _reaction(reaction: Reaction) -> dict[str, Any]:
    message = reaction.message
    return {"room": message.room.slug, "seq": message.seq, "emoji": reaction.emoji, "at": iso_time(reaction.created_at)}


def _upload(attachment: Attachment) -> dict[str, Any]:
    return {
        "room": attachment.room.slug,
        "attached": attachment.message_id is not None,
        **attachments_data([attachment])[0],
    }


def _notification(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "data": notification.data,
        "created_at": iso_time(notification.created_at),
        "read_at": iso_time(notification.read_at),
    }


def _read_marker(marker: ReadMarker) -> dict[str, Any]:
    return {"room": marker.room.slug, "last_read": marker.last_read, "updated_at": iso_time(marker.updated_at)}


def _token(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": iso_time(token.created_at),
        "last_used_at": iso_time(token.last_used_at),
        "revoked_at": iso_time(token.revoked_at),
    }


def _webhook(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.pk,
        "room": webhook.room.slug,
        "url": webhook.url,
        "active": webhook.active,
        "created_at": iso_time(webhook.created_at),
    }


def _directs(user: User) -> Any:
    return DirectConversation.objects.filter(Q(user_low=user) | Q(user_high=user)).select_related(
        "room", "user_low", "user_high"
    )


def _direct(direct: DirectConversation, user: User) -> dict[str, Any]:
    other = direct.user_high if direct.user_low_id == user.pk else direct.user_low
    return {"room": direct.room.slug, "with": {"id": other.pk, "name": other.get_username()}}


def _restriction(restriction: RoomBan | RoomMute) -> dict[str, Any]:
    shown: dict[str, Any] = {"room": restriction.room.slug}
    if isinstance(restriction, RoomBan):
        shown.update(reason=restriction.reason, created_at=iso_time(restriction.created_at))
    else:
        shown["until"] = iso_time(restriction.until)
    return shown
