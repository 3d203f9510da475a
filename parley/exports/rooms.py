"""A room's history as a JSON archive: messages with their edits, reactions and attachments.

For the room's owners and holders of ``parley.moderate_all_rooms`` (staff, by default): it holds
the bodies people edited away or deleted, which only moderators may read. Attachments are listed
with their metadata and the URL that serves each file to readers of the room, not copied into
the archive: the archive then streams as JSON with no file in memory or on disk, it stays as
small as the text, and the files stay behind the room's permission check (whoever downloads the
archive can fetch them with the same session).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from parley.accounts.identity import Identity
from parley.accounts.permissions import MODERATE_ALL_ROOMS
from parley.exports.archive import batches, each, json_object
from parley.rooms.access import RoomAccessError, check_can_read
from parley.rooms.attachments import attachments_of
from parley.rooms.models import Membership, Message, MessageEdit, Reaction, Room
from parley.wire.serializers import iso_time, message_data

ARCHIVE_VERSION = 1


def room_export_check(*, room: Room, identity: Identity) -> None:
    """Raise ``RoomAccessError`` unless ``identity`` may export ``room``: its owners, and staff."""
    check_can_read(room=room, identity=identity)
    if identity.can(MODERATE_ALL_ROOMS):
        return
    user_id = identity.user_id
    owners = Membership.objects.filter(room=room, role=Membership.Role.OWNER)
    if user_id is None or not owners.filter(user_id=user_id).exists():
        raise RoomAccessError("forbidden", "Only the room's owners and staff can export its history.")


def room_archive(*, room: Room) -> Iterator[bytes]:
    """The room's archive as pieces of one JSON document; rows are read as the pieces are taken."""
    members = Membership.objects.filter(room=room).select_related("user")
    yield from json_object(
        [
            ("format", "parley.room-archive"),
            ("version", ARCHIVE_VERSION),
            ("exported_at", iso_time(timezone.now())),
            (
                "room",
                {
                    "slug": room.slug,
                    "title": room.title,
                    "private": room.is_private,
                    "guests_allowed": room.guests_allowed,
                    "created_at": iso_time(room.created_at),
                },
            ),
            ("members", each(members, _member)),
            ("messages", _messages(room)),
        ]
    )


def _member(membership: Membership) -> dict[str, Any]:
    return {
        "id": membership.user_id,
        "name": membership.user.get_username(),
        "role": membership.role,
        "joined_at": iso_time(membership.joined_at),
    }


def _messages(room: Room) -> Iterator[dict[str, Any]]:
    rows = Message.objects.filter(room=room).select_related("author")
    for batch in batches(rows, key="seq"):
        for message in batch:
            message.room = room  # one room object, not a join per row
        ids = [message.pk for message in batch]
        edits = _edits_of(ids)
        reactions = _reactions_of(ids)
        files = attachments_of(message_ids=[message.pk for message in batch if message.has_attachments])
        for message in batch:
            data = message_data(message, attachments=files.get(message.pk))
            data.pop("mine")
            data["reactions"] = reactions.get(message.pk, [])
            data["edits"] = edits.get(message.pk, [])
            yield data


def _edits_of(message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    rows = (
        MessageEdit.objects.filter(message_id__in=message_ids).select_related("edited_by").order_by("edited_at", "id")
    )
    for edit in rows:
        by = edit.edited_by
        found.setdefault(edit.message_id, []).append(
            {
                "action": edit.action,
                "previous_body": edit.previous_body,
                "edited_by": None if by is None else {"id": by.pk, "name": by.get_username()},
                "edited_at": iso_time(edit.edited_at),
            }
        )
    return found


def _reactions_of(message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for reaction in Reaction.objects.filter(message_id__in=message_ids).select_related("user").order_by("id"):
        found.setdefault(reaction.message_id, []).append(
            {
                "emoji": reaction.emoji,
                "user": {"id": reaction.user_id, "name": reaction.user.get_username()},
                "at": iso_time(reaction.created_at),
            }
        )
    return found
