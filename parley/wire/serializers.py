"""Stored objects in their wire shape: the dicts every transport sends (socket frames, API bodies,
webhook payloads), each the shape of a model in ``parley.wire.frames``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from parley.wire.frames import MessageUpdated, ServerFrame

if TYPE_CHECKING:
    from parley.notifications.models import Notification as StoredNotification
    from parley.rooms.models import Attachment as StoredAttachment
    from parley.rooms.models import Message as StoredMessage


def iso_time(moment: datetime | None) -> str | None:
    """A stored time as the protocol writes it: ISO 8601 in UTC with a ``Z``, or None."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def message_data(
    message: StoredMessage,
    reactions: dict[str, int] | None = None,
    mine: list[str] | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A stored message in its wire shape (``MessageData``), as plain JSON-ready values.

    ``reactions``, ``mine`` and ``attachments`` (each in its wire shape, ``AttachmentData``) are read
    by the caller, for a whole page at once, and only for messages that have any; a new message has
    no reactions.
    """
    author = message.author
    deleted = message.deleted_at is not None
    return {
        "room": message.room.slug,
        "seq": message.seq,
        "id": message.pk,
        "author": {
            "id": None if author is None else author.pk,
            "name": message.guest_name if author is None else author.get_username(),
            "guest": author is None,
        },
        "body": "" if deleted else message.body,
        "created_at": iso_time(message.created_at),
        "client_id": message.client_id,
        "edited_at": iso_time(message.edited_at),
        "deleted": deleted,
        "reactions": {} if deleted or reactions is None else reactions,
        "mine": [] if deleted or mine is None else mine,
        "reply_to": message.reply_to,
        "thread_count": message.thread_count,
        "attachments": [] if deleted or attachments is None else attachments,
    }


def attachment_data(attachment: StoredAttachment, *, url: str, thumbnail_url: str | None) -> dict[str, Any]:
    """A stored attachment in its wire shape (``AttachmentData``), served from ``url``."""
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": url,
        "thumbnail_url": thumbnail_url,
        "width": attachment.width,
        "height": attachment.height,
        "animated": attachment.animated,
    }


def notification_data(
    notification: StoredNotification, *, data: dict[str, Any], text: str, url: str | None
) -> dict[str, Any]:
    """A stored notification in its wire shape (``NotificationData``), as plain JSON-ready values:
    with ``data`` as its recipient may see it, worded ``text`` and leading to ``url`` (the domain
    decides all three: ``parley.notifications.selectors.notification_shown``)."""
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "data": data,
        "created_at": iso_time(notification.created_at),
        "read": notification.read_at is not None,
        "text": text,
        "url": url,
    }


def message_updated_frame(message: StoredMessage, ref: str | int | None = None) -> MessageUpdated:
    """A message's current state after an edit or a delete: the ``message_updated`` frame."""
    deleted = message.deleted_at is not None
    return MessageUpdated(
        ref=ref,
        room=message.room.slug,
        seq=message.seq,
        body="" if deleted else message.body,
        edited_at=iso_time(message.edited_at),
        deleted=deleted,
    )


def published_frame(frame: ServerFrame) -> dict[str, Any]:
    """A frame as the domain publishes it to a room or a user (JSON values, ``type`` first), with
    no ``ref``: pushed unasked, it answers nobody's frame."""
    return frame.model_dump(mode="json", exclude={"ref"})
