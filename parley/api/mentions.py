"""The people a composer suggests after "@": usernames in a room that start with what was typed."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from pydantic import Field

from parley.api.auth import caller
from parley.api.errors import error_responses
from parley.mentions.selectors import MAX_SUGGESTIONS, mention_candidates
from parley.rooms.selectors import room_for_reader
from parley.wire.text import Slug

router = Router(tags=["rooms"])


class PeopleQuery(Schema):
    prefix: str = Field(
        default="",
        max_length=150,
        pattern=r"^[\w.+-]*$",
        description="The start of a username (what follows '@'), any case; empty for anyone.",
    )


class People(Schema):
    """Usernames to suggest for an @mention."""

    room: str = Field(description="The room's slug.")
    people: list[str] = Field(
        description=f"Up to {MAX_SUGGESTIONS} usernames, sorted: the room's members and, in a public room, "
        "its recent authors; never you."
    )


@router.get(
    "/rooms/{slug}/people",
    response={200: People, **error_responses(403, 404)},
    operation_id="rooms_people",
    summary="Suggest people to mention in a room",
)
def rooms_people(
    request: HttpRequest, slug: Annotated[Slug, Path(description="The room's slug.")], query: Query[PeopleQuery]
) -> People:
    """Usernames starting with `prefix` that you can @mention in a room you may read."""
    identity = caller(request)
    room = room_for_reader(slug=slug, identity=identity)
    return People(room=room.slug, people=mention_candidates(room=room, identity=identity, prefix=query.prefix))
