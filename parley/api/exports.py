"""Archives to download: a room's history (its owners and staff) and everything Parley holds about you.

Both answer a JSON document streamed as it is read (``parley.exports``): a plain ``GET`` with the
session, so a page links to it, or with a bearer token. Under an ASGI server the stream is an
async iterator whose pieces (about ``archive.PIECE_BYTES`` each) are read in a database thread one at a time:
Django would otherwise read a synchronous iterator to its end before sending a byte.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from ninja import Router

from parley.api.auth import caller, caller_user
from parley.api.errors import error_responses
from parley.api.rooms import SlugPath
from parley.exports import archive
from parley.exports.people import person_archive
from parley.exports.rooms import room_archive, room_export_check
from parley.rooms.selectors import room_for_reader

router = Router(tags=["exports"])

ARCHIVE_TYPE = "application/json; charset=utf-8"


def _pieces(pieces: Iterator[bytes]) -> bytes:
    """The next ``archive.PIECE_BYTES`` or so of the document (b"" at its end): small pieces are taken
    together, so that a member's name does not cost a trip to the database thread of its own."""
    taken = bytearray()
    for piece in pieces:
        taken += piece
        if len(taken) >= archive.PIECE_BYTES:
            break
    return bytes(taken)


async def _streamed(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    while taken := await sync_to_async(_pieces)(pieces):
        yield taken


def _download(request: HttpRequest, pieces: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    streamed = _streamed(pieces) if isinstance(request, ASGIRequest) else pieces
    response = StreamingHttpResponse(streamed, content_type=ARCHIVE_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.get(
    "/rooms/{slug}/export",
    response={200: None, **error_responses(403, 404)},
    operation_id="rooms_export",
    summary="Download a room's history (owners and staff)",
)
def rooms_export(request: HttpRequest, slug: SlugPath) -> StreamingHttpResponse:
    """A JSON archive of the room: its members, and every message with its edit history, reactions and
    attachments (metadata and the URL that serves each file to the room's readers), streamed. For the room's
    owners and staff (403 for anyone else who may read it)."""
    identity = caller(request)
    room = room_for_reader(slug=slug, identity=identity)
    room_export_check(room=room, identity=identity)
    filename = f"parley-{room.slug}-{timezone.now():%Y%m%d-%H%M%S}.json"
    return _download(request, room_archive(room=room), filename)


@router.get(
    "/me/export",
    response={200: None, **error_responses()},
    operation_id="me_export",
    summary="Download everything Parley holds about you",
)
def me_export(request: HttpRequest) -> StreamingHttpResponse:
    """A JSON archive of your account, memberships, messages (with their edits and attachments), reactions,
    uploads, notifications, read markers, API tokens (no secrets), webhooks you registered, direct
    conversations, and bans and mutes placed on you, streamed."""
    user = caller_user(request)
    filename = f"parley-{user.get_username()}-{timezone.now():%Y%m%d-%H%M%S}.json"
    return _download(request, person_archive(user=user), filename)
