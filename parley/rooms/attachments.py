"""Files people attach to messages: upload, attach, read, delete, and the sweep of forgotten uploads.

Files are kept in the storage ``PARLEY_ATTACHMENT_STORAGE`` names (an alias of the host's
``STORAGES``: the file system by default, any django-storages backend by configuration) under
names Parley makes up; the name a person gave a file is only ever shown. Nobody gets a storage
URL: files are served by ``parley.web.files``, which checks that the reader may read the room.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import uuid
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from parley.accounts.identity import Identity
from parley.conf import parley_settings
from parley.rooms.access import check_can_post, check_can_read
from parley.rooms.models import Attachment, Message, Room
from parley.rooms.uploads import SNIFF_BYTES, image_process, is_image_type, sniff_content_type
from parley.tasks.registry import TaskKind
from parley.wire.errors import ParleyError
from parley.wire.serializers import attachment_data

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

logger = logging.getLogger(__name__)

ORPHAN_TASK = "attachments.orphan"
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\]")


def attachment_storage() -> Storage:
    """The storage attachments are kept in (``PARLEY_ATTACHMENT_STORAGE``, an alias of ``STORAGES``)."""
    return storages[parley_settings.ATTACHMENT_STORAGE]


def _size(number: int) -> str:
    return filesizeformat(number).replace("\xa0", " ")


def _shown_name(name: str | None) -> str:
    """The name a person gave the file, without any folder or control character, at most 255 characters."""
    base = _UNSAFE_NAME.sub("_", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip() or "file"
    return base[-255:]


def _storage_name(room: Room, content_type: str) -> str:
    """A name of Parley's own: a person's file name never becomes a path."""
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"parley/attachments/{room.pk}/{uuid.uuid4().hex}{extension}"


def attachment_upload(*, room: Room, uploader: Identity, upload: UploadedFile[bytes]) -> Attachment:
    """Keep ``upload`` for a message ``uploader`` will send in ``room``; it waits unattached until then.

    Anyone who may post in the room may upload to it (signed-in users: guests have nothing to
    attach with). Raises ``ParleyError``: too_large over ``PARLEY_ATTACHMENT_MAX_SIZE``, invalid
    for a type not in ``PARLEY_ATTACHMENT_TYPES`` (read from the content) or an image that does
    not decode, and the room's own refusals.
    """
    check_can_post(room=room, identity=uploader)
    if uploader.user is None:
        raise ParleyError("forbidden", "Sign in to upload files; guests cannot.")
    name = _shown_name(upload.name)
    size = int(upload.size or 0)
    limit = parley_settings.ATTACHMENT_MAX_SIZE
    if size > limit:
        raise ParleyError(
            "too_large", f"The file {name!r} is {_size(size)}; the limit per file is {_size(limit)} ({limit} bytes)."
        )
    if size == 0:
        raise ParleyError("invalid", f"The file {name!r} is empty; nothing was uploaded.")
    upload.seek(0)
    content_type = sniff_content_type(upload.read(SNIFF_BYTES))
    upload.seek(0)
    accepted = parley_settings.ATTACHMENT_TYPES
    if content_type not in accepted:
        raise ParleyError(
            "invalid",
            f"The file {name!r} is {content_type} (read from its content, whatever its name); "
            f"this site accepts {', '.join(accepted)}.",
        )
    attachment = Attachment(room=room, uploader=uploader.user, name=name, content_type=content_type, size=size)
    storage = attachment_storage()
    if is_image_type(content_type):
        image = image_process(upload)
        attachment.content_type = image.content_type
        attachment.size = len(image.content)
        attachment.width, attachment.height, attachment.animated = image.width, image.height, image.animated
        attachment.file = storage.save(_storage_name(room, image.content_type), ContentFile(image.content))
        thumbnail_name = attachment.file.rsplit(".", 1)[0] + ".thumb." + image.thumbnail_extension
        attachment.thumbnail = storage.save(thumbnail_name, ContentFile(image.thumbnail))
    else:
        attachment.file = storage.save(_storage_name(room, content_type), upload)
    try:
        attachment.save()
    except Exception:
        _files_delete([attachment.file, attachment.thumbnail])
        raise
    return attachment


def attachments_attach(*, message: Message, sender: Identity, ids: list[int]) -> list[Attachment]:
    """Attach the uploads ``ids`` of ``sender`` to ``message``, just stored in the same transaction.

    Each must be ``sender``'s, in the message's room and not attached yet; together they must
    keep to ``PARLEY_ATTACHMENT_MAX_COUNT`` and ``PARLEY_ATTACHMENT_MAX_MESSAGE_SIZE``. Raises
    ``ParleyError`` otherwise, which rolls the message back with the transaction.
    """
    wanted = list(dict.fromkeys(ids))
    most = parley_settings.ATTACHMENT_MAX_COUNT
    if len(wanted) > most:
        raise ParleyError("too_large", f"A message carries at most {most} files; this one names {len(wanted)}.")
    found = {
        attachment.pk: attachment
        for attachment in Attachment.objects.select_for_update().filter(
            pk__in=wanted, room_id=message.room_id, message__isnull=True, uploader_id=sender.user_id
        )
    }
    missing = [pk for pk in wanted if pk not in found]
    if sender.user_id is None or missing:
        raise ParleyError(
            "not_found",
            f"There is no upload {missing[0] if missing else wanted[0]} of yours waiting in this room; "
            "upload the file to the room first (an upload is attached to one message only).",
        )
    total = sum(attachment.size for attachment in found.values())
    limit = parley_settings.ATTACHMENT_MAX_MESSAGE_SIZE
    if total > limit:
        raise ParleyError(
            "too_large",
            f"These files come to {_size(total)}; the limit per message is {_size(limit)} ({limit} bytes).",
        )
    Attachment.objects.filter(pk__in=wanted).update(message=message)
    # In upload order, as every page reads them back: not in the order the send named them.
    attached = [found[pk] for pk in sorted(wanted)]
    for attachment in attached:
        attachment.message = message
    return attached


def attachment_url(attachment: Attachment) -> str:
    """Where the file is served to readers of its room."""
    return reverse("parley:attachment", kwargs={"pk": attachment.pk})


def attachments_data(attachments: Iterable[Attachment]) -> list[dict[str, Any]]:
    """Attachments in their wire shape (``AttachmentData``), with the URLs that serve them."""
    return [
        attachment_data(
            attachment,
            url=attachment_url(attachment),
            thumbnail_url=(
                reverse("parley:attachment-thumbnail", kwargs={"pk": attachment.pk}) if attachment.thumbnail else None
            ),
        )
        for attachment in attachments
    ]


def attachments_of(*, message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The attachments of these messages in their wire shape, by message id, in one query."""
    if not message_ids:
        return {}
    found: dict[int, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(message_id__in=message_ids).order_by("id"):
        assert attachment.message_id is not None
        found.setdefault(attachment.message_id, []).append(attachment)
    return {message_id: attachments_data(attachments) for message_id, attachments in found.items()}


def attachment_for_reader(*, pk: int, identity: Identity | None) -> Attachment:
    """Attachment ``pk`` when ``identity`` may read its room and its message is not deleted; else
    ``RoomAccessError``/``ParleyError`` not_found, as for a file that does not exist.

    An upload not yet attached is served to its uploader only.
    """
    attachment = Attachment.objects.select_related("room", "message").filter(pk=pk).first()
    missing = ParleyError("not_found", f"There is no file {pk}, or you may not read its room.")
    if attachment is None or identity is None:
        raise missing
    check_can_read(room=attachment.room, identity=identity)
    message = attachment.message
    if message is None and attachment.uploader_id != identity.user_id:
        raise missing
    if message is not None and message.deleted_at is not None:
        raise missing
    return attachment


def attachments_delete_on_commit(*, message: Message) -> None:
    """Delete a message's attachments now and their files once the transaction commits."""
    _delete_on_commit(Attachment.objects.filter(message=message))


def room_attachments_delete_on_commit(*, room: Room) -> int:
    """Delete every attachment of ``room`` (attached or still waiting) now, ``DELETE_BATCH`` rows at a
    time, and their files once the transaction commits; how many there were."""
    return _delete_on_commit(Attachment.objects.filter(room=room))


DELETE_BATCH = 1000


def _delete_on_commit(rows: QuerySet[Attachment]) -> int:
    """Delete ``rows`` in batches by key, reading only their file names, and the files after commit.

    The files wait for the commit: a rolled-back delete must find them still there. Only the names
    are kept until then, never the rows."""
    deleted, last = 0, 0
    while batch := list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", "file", "thumbnail")[:DELETE_BATCH]):
        Attachment.objects.filter(pk__in=[pk for pk, _, _ in batch]).delete()
        transaction.on_commit(partial(_files_delete, [name for _, *names in batch for name in names]))
        deleted += len(batch)
        last = batch[-1][0]
    return deleted


def _files_delete(names: list[str]) -> None:
    storage = attachment_storage()
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except Exception:
            # The row is gone; a file left behind costs space, not privacy (nothing serves it).
            logger.warning("could not delete the attachment file %s", name, exc_info=True)


# --- the sweep of uploads never attached ------------------------------------------------------


def attachments_orphaned(*, limit: int = 500) -> list[int]:
    """Uploads that waited longer than ``PARLEY_ATTACHMENT_ORPHAN_HOURS`` for a message (the task's ``due``)."""
    cutoff = timezone.now() - timedelta(hours=parley_settings.ATTACHMENT_ORPHAN_HOURS)
    rows = Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff).order_by("created_at")
    return list(rows.values_list("pk", flat=True)[:limit])


@transaction.atomic
def attachment_orphan_delete(*, pk: int) -> bool:
    """Delete upload ``pk`` and its files if it is still unattached; False when it is not (any more)."""
    cutoff = timezone.now() - timedelta(hours=parley_settings.ATTACHMENT_ORPHAN_HOURS)
    attachment = (
        Attachment.objects.select_for_update().filter(pk=pk, message__isnull=True, created_at__lt=cutoff).first()
    )
    if attachment is None:
        return False
    attachment.delete()
    transaction.on_commit(partial(_files_delete, [attachment.file, attachment.thumbnail]))
    return True


async def _orphan_run(pk: int) -> float | None:
    await database_sync_to_async(attachment_orphan_delete)(pk=pk)
    return None


ORPHANED_UPLOADS = TaskKind(name=ORPHAN_TASK, ids="attachment_ids", run=_orphan_run, due=attachments_orphaned)
"""Deleting uploads nobody attached: the runners' sweep finds them (``due``) and deletes each with its files."""
