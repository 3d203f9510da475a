"""Schemas the API's areas share. Messages and notifications use the WebSocket protocol's own
models (``MessageData``, ``NotificationData``), so that one schema describes both transports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import Field, StringConstraints, model_validator

from parley.readstate.selectors import Unread
from parley.rooms.models import Room


class JsonBody(Schema):
    """Base of request bodies. Their booleans are strict (``"yes"`` or ``1`` is not ``true``), as the
    OpenAPI document says; numbers stay lax, since JSON Schema counts ``1.0`` as an integer."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        # ninja's Schema would read attributes off anything; a request body must be a JSON object.
        if not isinstance(getattr(data, "_obj", data) if isinstance(data, DjangoGetter) else data, dict):
            raise ValueError("The JSON body must be an object")
        return data


class RoomOut(Schema):
    """A room as the caller sees it."""

    slug: str = Field(description="The room's slug: 1 to 64 letters, digits, '-' or '_'.")
    title: str = Field(description="The room's title; may be empty (show the slug then).")
    private: bool = Field(description="Only members can see and use a private room.")
    guests_allowed: bool = Field(description="Anonymous guests may read and post (public rooms, when enabled).")
    head: int = Field(description="The seq of the room's newest message; 0 when it has none.")
    role: Literal["owner", "moderator", "member"] | None = Field(
        description="The caller's role in the room, or null when the caller is not a member."
    )
    unread: int = Field(
        description="Messages after last_read that are not the caller's own and not deleted, counted among the "
        "room's newest 1000 (show 99+ past 99)."
    )
    last_read: int = Field(description="The seq up to which the caller has read the room (0: nothing yet).")


def room_out(room: Room, role: str | None, unread: Unread) -> RoomOut:
    """The API shape of ``room`` for a caller with ``role`` (None: not a member) and ``unread`` state."""
    return RoomOut(
        slug=room.slug,
        title=room.title,
        private=room.is_private,
        guests_allowed=room.guests_allowed,
        head=room.last_seq,
        role=role,  # type: ignore[arg-type]
        unread=unread.count,
        last_read=unread.last_read,
    )


# Control characters (tab and newline excepted) are refused in every text the API stores: NUL cannot
# be stored by PostgreSQL, and the rest cannot be shown. Stated as a pattern so that the OpenAPI
# document says it too.
TEXT_PATTERN = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
# The same, with at least one character that is not white space.
NOT_BLANK_PATTERN = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"

Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
# Django's usernames: letters, digits and @.+-_ (nothing a database could choke on, like NUL).
USERNAME_PATTERN = r"^[\w.@+-]{1,150}$"
Username = Annotated[
    str, Field(pattern=USERNAME_PATTERN, description="A username: 1 to 150 letters, digits, '.', '@', '+', '-' or '_'.")
]
MessageBody = Annotated[
    str,
    StringConstraints(min_length=1, pattern=NOT_BLANK_PATTERN),
    # No maxLength: the limit is a setting, and a longer body is too_large (413), as on the WebSocket.
    Field(description="The text, 1 to PARLEY_MAX_BODY (default 4000) characters, not blank, no control characters."),
]
