"""What a person types into the search box, made safe for each database's full-text syntax.

Both databases get the same small language, PostgreSQL's ``websearch_to_tsquery``'s: words (all
must be present), ``"a phrase"``, ``-word`` (must be absent) and ``or`` between alternatives.
PostgreSQL parses it itself and never fails on it; for SQLite's FTS5, whose own syntax refuses
unbalanced quotes, ``*``, ``:``, ``(`` and the like, ``fts5_match`` rebuilds the query from quoted
terms only, so nothing a person types is FTS5 syntax.
"""

from __future__ import annotations

import re

from parley.wire.errors import ParleyError

MAX_QUERY = 200
# A "phrase" (an unclosed quote runs to the end), or a run of anything but space and quotes.
TERM = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
WORD = re.compile(r"\w")
# Characters that are never part of a message (control characters, refused on input) and mark
# the start and end of a match in the snippets the databases build.
MATCH_START = "\x02"
MATCH_END = "\x03"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class SearchQueryError(ParleyError):
    """A query that cannot be searched for (empty or too long: ``invalid``); ``detail`` says what to change."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid", detail)


def search_text(q: str) -> str:
    """The query as searched for: control characters blanked, spaces trimmed; raise if empty or too long."""
    text = CONTROL.sub(" ", q).strip()
    if not text:
        raise SearchQueryError("Type a word to search for.")
    if len(text) > MAX_QUERY:
        raise SearchQueryError(f"A search is at most {MAX_QUERY} characters; this one has {len(text)}.")
    return text


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts5_match(text: str) -> str | None:
    """An FTS5 MATCH expression for ``text``, or None when it asks for nothing that can match.

    Terms without a letter or digit are dropped (the tokenizer would drop them anyway); ``or``
    splits the query into alternatives; in each, the wanted terms are joined with AND and the
    unwanted ones follow with NOT (FTS5 cannot start with NOT, so an alternative of unwanted
    terms only is dropped).
    """
    alternatives: list[list[tuple[bool, str]]] = [[]]
    for match in TERM.finditer(text):
        negated = bool(match.group(1) or match.group(3))
        term = match.group(2) if match.group(2) is not None else match.group(4)
        if match.group(4) is not None and term.lower() == "or" and not negated:
            alternatives.append([])
            continue
        if WORD.search(term):
            alternatives[-1].append((negated, _quoted(term)))
    expressions = []
    for terms in alternatives:
        wanted = [term for negated, term in terms if not negated]
        if not wanted:
            continue
        unwanted = [term for negated, term in terms if negated]
        expressions.append(" AND ".join(wanted) + "".join(f" NOT {term}" for term in unwanted))
    if not expressions:
        return None
    return " OR ".join(f"({expression})" for expression in expressions)


def highlight_segments(snippet: str) -> list[dict[str, object]]:
    """Split a snippet marked with ``MATCH_START``/``MATCH_END`` into ``[{text, match}]`` segments."""
    segments: list[dict[str, object]] = []
    for index, part in enumerate(re.split(f"[{MATCH_START}{MATCH_END}]", snippet)):
        if not part:
            continue
        match = index % 2 == 1
        if segments and segments[-1]["match"] == match:
            segments[-1]["text"] = str(segments[-1]["text"]) + part
        else:
            segments.append({"text": part, "match": match})
    return segments
