"""Serving attached files, to the people who may read their room and nobody else.

There are no public URLs: every request is checked against the room (a session, a named guest
in a guest room, or ``Authorization: Bearer`` with an API token), and a file that may not be read
answers 404 like one that does not exist. What is served can never run as Parley's page:

- ``Content-Security-Policy: sandbox`` (and nothing allowed): a document opened from here runs in
  an opaque origin with scripts off, whatever it is;
- ``X-Content-Type-Options: nosniff``: the browser takes the type Parley read from the content;
- ``Content-Disposition: attachment`` for anything but the image types Pillow decoded and wrote
  anew (PNG, JPEG, GIF, WebP): HTML, SVG, PDF and the rest are downloaded, never shown in place.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from parley.accounts.identity import Identity, request_identity, user_identity
from parley.accounts.selectors import token_active
from parley.rooms.attachments import attachment_for_reader, attachment_storage
from parley.rooms.models import Attachment
from parley.rooms.uploads import is_image_type
from parley.wire.errors import ParleyError

SANDBOX = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def _reader(request: HttpRequest) -> Identity | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = token_active(secret=header[7:].strip())
        return None if token is None else user_identity(token.user, token_id=token.pk)
    return request_identity(request)


def _readable(request: HttpRequest, pk: int) -> Attachment:
    try:
        return attachment_for_reader(pk=pk, identity=_reader(request))
    except ParleyError:
        raise Http404("No such file.") from None


def _served(attachment: Attachment, name: str, content_type: str, *, inline: bool) -> FileResponse:
    response = FileResponse(attachment_storage().open(name, "rb"), content_type=content_type)
    disposition = content_disposition_header(not inline, attachment.name)
    if disposition:
        response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # Readers change (a ban, a room made private): no shared cache may keep the file.
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """An attached file: inline for the image types Parley decoded itself, a download otherwise."""
    found = _readable(request, pk)
    return _served(found, found.file, found.content_type, inline=is_image_type(found.content_type))


@require_GET
def attachment_thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    """An image attachment's thumbnail (404 for a file that has none)."""
    found = _readable(request, pk)
    if not found.thumbnail:
        raise Http404("This file has no thumbnail.")
    extension = found.thumbnail.rsplit(".", 1)[-1].lower()
    content_type = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}.get(extension)
    if content_type is None:
        raise Http404("This file has no thumbnail.")
    return _served(found, found.thumbnail, content_type, inline=True)
