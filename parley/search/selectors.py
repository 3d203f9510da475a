"""Searching the messages a person may read, by the words in them.

Hits come best first — the database's own relevance (FTS5's bm25 on SQLite, ``ts_rank`` on
PostgreSQL) — and, among equally good ones, newest first. Each hit is the message in its wire
shape plus ``highlight``: the part of the body around the matches as ``[{text, match}]``
segments, so that a client marks the matches itself and never renders HTML from the server.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection

from parley.accounts.identity import Identity
from parley.rooms.access import readable_rooms
from parley.rooms.attachments import attachments_of
from parley.rooms.models import Attachment, Message
from parley.rooms.selectors import room_for_reader
from parley.search.indexing import FTS_TABLE, MESSAGE_TABLE, search_config, tsvector_sql
from parley.search.query import MATCH_END, MATCH_START, fts5_match, highlight_segments, search_text
from parley.wire.serializers import message_data

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
SNIPPET_WORDS = 32  # about how many words of a long message a hit shows around its matches
HIDDEN_MARKUP = "\x04\x05\x06"  # stand-ins for "<>&" while PostgreSQL builds a headline
UNHIDE_MARKUP = str.maketrans(HIDDEN_MARKUP, "<>&")


def messages_search(
    *, identity: Identity, q: str, room_slug: str | None = None, limit: int = DEFAULT_LIMIT
) -> list[dict[str, Any]]:
    """Up to ``limit`` messages matching ``q`` in the rooms ``identity`` may read (or in ``room_slug`` only).

    Raises ``SearchQueryError`` for an empty or too long query (nothing else about a query is an
    error: FTS syntax is neutralised) and ``RoomAccessError`` when ``room_slug`` cannot be read.
    """
    text = search_text(q)
    if room_slug is not None:
        room_ids = [room_for_reader(slug=room_slug, identity=identity).pk]
    else:
        room_ids = list(readable_rooms(identity=identity).values_list("pk", flat=True))
    limit = max(1, min(limit, MAX_LIMIT))
    if not room_ids:
        return []
    if connection.vendor == "sqlite":
        ranked = _sqlite_hits(text, room_ids, limit)
    elif connection.vendor == "postgresql":
        ranked = _postgres_hits(text, room_ids, limit)
    else:
        ranked = []
    found = {message_id for message_id, _ in ranked}
    ranked += [hit for hit in _file_name_hits(text, room_ids, limit) if hit[0] not in found][: limit - len(ranked)]
    messages = Message.objects.select_related("author", "room").in_bulk([message_id for message_id, _ in ranked])
    files = attachments_of(message_ids=[pk for pk, message in messages.items() if message.has_attachments])
    return [
        {
            **message_data(messages[message_id], attachments=files.get(message_id)),
            "highlight": highlight_segments(snippet),
        }
        for message_id, snippet in ranked
        if message_id in messages
    ]


def _file_name_hits(text: str, room_ids: list[int], limit: int) -> list[tuple[int, str]]:
    """Messages with a file whose name holds every word of ``text`` (newest first), after the body
    hits; the snippet is the file's name with the words marked."""
    words = [word.strip('"').lstrip("-") for word in text.split() if word.lower() != "or"]
    words = [word for word in words if word]
    if not words:
        return []
    files = Attachment.objects.filter(room_id__in=room_ids, message__isnull=False, message__deleted_at__isnull=True)
    for word in words:
        files = files.filter(name__icontains=word)
    rows = files.order_by("-message_id").values_list("message_id", "name")[: limit * 2]
    hits: dict[int, str] = {}
    for message_id, name in rows:
        if message_id is not None and message_id not in hits:
            hits[message_id] = _marked(name, words)
    return list(hits.items())[:limit]


def _marked(name: str, words: list[str]) -> str:
    pattern = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)
    return pattern.sub(lambda match: f"{MATCH_START}{match.group(0)}{MATCH_END}", name)


def _not_deleted(alias: str) -> str:
    """A condition leaving out deleted messages, once messages can be deleted (a ``deleted_at`` field)."""
    columns = {field.name: field.column for field in Message._meta.concrete_fields}
    column = columns.get("deleted_at")
    if column is None:
        return ""
    return f" AND {alias}.{connection.ops.quote_name(column)} IS NULL"


def _sqlite_hits(text: str, room_ids: list[int], limit: int) -> list[tuple[int, str]]:
    match = fts5_match(text)
    if match is None:
        return []
    placeholders = ", ".join(["%s"] * len(room_ids))
    sql = (
        f"SELECT m.id, snippet({FTS_TABLE}, 0, %s, %s, '…', {SNIPPET_WORDS}) "
        f"FROM {FTS_TABLE} JOIN {MESSAGE_TABLE} AS m ON m.id = {FTS_TABLE}.rowid "
        f"WHERE {FTS_TABLE} MATCH %s AND m.room_id IN ({placeholders}){_not_deleted('m')} "
        f"ORDER BY bm25({FTS_TABLE}), m.id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [MATCH_START, MATCH_END, match, *room_ids, limit])
        return [(int(row[0]), str(row[1])) for row in cursor.fetchall()]


def _postgres_hits(text: str, room_ids: list[int], limit: int) -> list[tuple[int, str]]:
    config = f"'{search_config()}'::regconfig"
    options = f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 3}"
    # The inner query finds and ranks through the GIN index (its expression is the index's); the
    # headline, which re-parses a body, is built for the page of hits only. ts_headline drops what
    # its parser takes for HTML tags and entities ("a<b and c>d" loses "<b and c>"), so '<', '>'
    # and '&' go in as control characters (never in a stored body) and are put back afterwards.
    sql = (
        f"SELECT hit.id, ts_headline({config}, translate(hit.body, '<>&', %s), hit.query, %s), hit.body FROM ("
        f"  SELECT m.id, m.body, q.query, ts_rank({tsvector_sql('m.body')}, q.query) AS rank"
        f"  FROM {MESSAGE_TABLE} AS m, websearch_to_tsquery({config}, %s) AS q(query)"
        f"  WHERE {tsvector_sql('m.body')} @@ q.query AND m.room_id = ANY(%s){_not_deleted('m')}"
        f"  ORDER BY rank DESC, m.id DESC LIMIT %s"
        f") AS hit ORDER BY hit.rank DESC, hit.id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [HIDDEN_MARKUP, options, text, room_ids, limit])
        rows = cursor.fetchall()
    return [(int(row[0]), _with_ellipses(str(row[1]).translate(UNHIDE_MARKUP), str(row[2]))) for row in rows]


def _with_ellipses(headline: str, body: str) -> str:
    """``headline`` with "…" where it cuts ``body`` short, as FTS5's snippets have it."""
    shown = headline.replace(MATCH_START, "").replace(MATCH_END, "")
    if not body.strip().startswith(shown[:20]):
        headline = "…" + headline
    if not body.strip().endswith(shown[-20:]):
        headline += "…"
    return headline
