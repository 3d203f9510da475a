"""Attachments: upload a file to a room, to attach to the next message you post or send there."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import File, Router, UploadedFile
from ninja.responses import Status

from parley.api.auth import caller
from parley.api.errors import error_responses
from parley.api.rooms import SlugPath
from parley.rooms.attachments import attachment_upload, attachments_data
from parley.rooms.selectors import room_for_reader
from parley.wire.frames import AttachmentData

router = Router(tags=["attachments"])


@router.post(
    "/rooms/{slug}/attachments",
    response={201: AttachmentData, **error_responses(403, 404, 413)},
    operation_id="rooms_attachments_upload",
    summary="Upload a file to attach to a message",
)
def rooms_attachments_upload(request: HttpRequest, slug: SlugPath, file: File[UploadedFile]) -> Status[AttachmentData]:
    """Upload one file (multipart/form-data, field ``file``) to a room you may post in; answer 201 with its
    id. Name the id in ``attachments`` of a message you post (``POST /api/rooms/{slug}/messages``) or send
    (``send`` frame) there; an upload no message names within PARLEY_ATTACHMENT_ORPHAN_HOURS is deleted.
    The type is read from the content (PARLEY_ATTACHMENT_TYPES); a file over PARLEY_ATTACHMENT_MAX_SIZE
    answers 413. Images lose their EXIF and get a thumbnail and their size in pixels."""
    identity = caller(request)
    room = room_for_reader(slug=slug, identity=identity)
    stored = attachment_upload(room=room, uploader=identity, upload=file)
    return Status(201, AttachmentData(**attachments_data([stored])[0]))
