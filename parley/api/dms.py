"""Direct messages: the private two-person room of you and another user, and the list of yours.

A direct conversation is an ordinary private room (its slug is ``dm-<low id>-<high id>``) whose
only members are its two people: read and post in it like in any room.
"""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.responses import Status
from pydantic import Field

from parley.api.auth import caller_user
from parley.api.errors import error_responses
from parley.api.schemas import USERNAME_PATTERN
from parley.direct.models import DirectConversation
from parley.direct.selectors import direct_conversations
from parley.direct.services import direct_conversation_open
from parley.readstate.selectors import Unread, unread_count, unread_counts
from parley.wire.serializers import iso_time

router = Router(tags=["direct messages"])

UsernamePath = Annotated[str, Path(pattern=USERNAME_PATTERN, description="The other person's username.")]


class DirectOut(Schema):
    """One of your direct conversations."""

    room: str = Field(description="The slug of the conversation's private room: subscribe, read and post there.")
    with_user: str = Field(description="The other person's username.")
    head: int = Field(description="The seq of the newest message; 0 when nothing was said yet.")
    unread: int = Field(description="Messages from the other person you have not read (see RoomOut.unread).")
    last_activity: str = Field(
        description="When the newest message was sent, or else when the conversation began (ISO 8601 UTC)."
    )


def _direct_out(conversation: DirectConversation, other: str, unread: Unread, last_activity: str) -> DirectOut:
    return DirectOut(
        room=conversation.room.slug,
        with_user=other,
        head=conversation.room.last_seq,
        unread=unread.count,
        last_activity=last_activity,
    )


@router.get(
    "/dms",
    response={200: list[DirectOut], **error_responses()},
    operation_id="dms_list",
    summary="List your direct conversations",
)
def dms_list(request: HttpRequest) -> list[DirectOut]:
    """Newest activity first, each with your unread count."""
    user = caller_user(request)
    rows = direct_conversations(user=user)
    unread = unread_counts(user_id=user.pk, room_ids=[row.conversation.room_id for row in rows])
    nothing = Unread(count=0, last_read=0)
    return [
        _direct_out(
            row.conversation,
            row.other.get_username(),
            unread.get(row.conversation.room_id, nothing),
            iso_time(row.last_activity) or "",
        )
        for row in rows
    ]


@router.post(
    "/dms/{username}",
    response={200: DirectOut, 201: DirectOut, **error_responses(403, 404, 409)},
    operation_id="dms_open",
    summary="Open your direct conversation with a user",
)
def dms_open(request: HttpRequest, username: UsernamePath) -> Status[DirectOut]:
    """Answers the conversation (200), creating it the first time (201). The other user must exist
    and be active (404); a conversation with yourself is refused (403)."""
    user = caller_user(request)
    result = direct_conversation_open(user=user, username=username)
    conversation = result.conversation
    other = conversation.other_user(user.pk)
    unread = unread_count(user_id=user.pk, room_id=conversation.room_id)
    body = _direct_out(conversation, other.get_username(), unread, iso_time(conversation.created_at) or "")
    return Status(201 if result.created else 200, body)
