"""Search: the messages you may read that contain some words, with the matches marked."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from parley.api.auth import caller
from parley.api.errors import error_responses
from parley.api.schemas import NOT_BLANK_PATTERN
from parley.search.query import MAX_QUERY, search_text
from parley.search.selectors import DEFAULT_LIMIT, MAX_LIMIT, messages_search
from parley.wire.frames import MessageData
from parley.wire.text import Slug

router = Router(tags=["search"])


class SearchQuery(Schema):
    q: str = Field(
        min_length=1,
        max_length=MAX_QUERY,
        pattern=NOT_BLANK_PATTERN,
        description=(
            f"What to look for, 1 to {MAX_QUERY} characters: words (all must appear, in any case), "
            '"an exact phrase", -word (must not appear), and "or" between alternatives.'
        ),
    )
    room: Slug | None = Field(default=None, description="Search this room only (one you may read).")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Most hits, 1 to {MAX_LIMIT}.")


class HighlightSegment(Schema):
    """A piece of a hit's text: the pieces in order are the part of the body around the matches."""

    text: str = Field(description="The text, to be shown as text (never as HTML).")
    match: bool = Field(description="Whether this piece matched the query (show it marked).")


class SearchHit(MessageData):
    """A message that matched, in the same shape as everywhere else, with its matches marked."""

    highlight: list[HighlightSegment] = Field(
        description="The part of the body around the matches, as segments; '…' marks where it was cut."
    )


class SearchResults(Schema):
    """The hits for a query: best first, and newest first among equally good ones."""

    query: str = Field(description="The query as searched for (spaces around it trimmed).")
    room: str | None = Field(description="The room searched, or null for every room you may read.")
    hits: list[SearchHit] = Field(description="At most `limit` hits.")


@router.get(
    "/search",
    response={200: SearchResults, **error_responses(403, 404)},
    operation_id="search",
    summary="Search messages",
)
def search(request: HttpRequest, query: Query[SearchQuery]) -> SearchResults:
    """Messages in the rooms you may read (or in `room`) that contain the words of `q`.
    A room you may not read answers 404, like one that does not exist."""
    identity = caller(request)
    hits = messages_search(identity=identity, q=query.q, room_slug=query.room, limit=query.limit)
    return SearchResults(query=search_text(query.q), room=query.room, hits=[SearchHit(**hit) for hit in hits])
