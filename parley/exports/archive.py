"""Writing a JSON document as a stream of text pieces, from batches of rows read by key.

An archive is an object whose big members are arrays; each array is written element by element
from ``batches``, which reads ``BATCH`` rows at a time with ``pk > last`` (keyset paging). That,
rather than one ``QuerySet.iterator()``, is what keeps memory and the database flat: each batch is
a short query of its own, where a server-side cursor on PostgreSQL would hold a transaction (or
a ``WITH HOLD`` copy of the whole result) open for as long as the download lasts.

The document is written as UTF-8 bytes, element by element, in pieces of about ``PIECE_BYTES``:
memory holds one batch of rows and one piece, whatever the archive's size. (Joining a batch's
text as ``str`` first cost four bytes a character as soon as one element held an emoji.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

BATCH = 500
# The size a piece of the document grows to before it is handed on: Django's ASGI handler sends
# the body in chunks of this size, so a piece is sent as it is, never cut and copied.
PIECE_BYTES = 64 * 1024

ModelT = TypeVar("ModelT", bound=Model)


def dumps(value: Any) -> bytes:
    """One JSON value, compact, in UTF-8 (non-ASCII characters kept as they are, not escaped)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def batches(rows: QuerySet[ModelT], *, key: str = "pk", size: int | None = None) -> Iterator[list[ModelT]]:
    """``rows`` in order of ``key`` (a unique, indexed column), ``size`` (``BATCH``) at a time, one query per batch."""
    size = size or BATCH
    last: Any = None
    while True:
        page = rows if last is None else rows.filter(**{f"{key}__gt": last})
        batch = list(page.order_by(key)[:size])
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        last = getattr(batch[-1], key)


def json_object(members: Iterable[tuple[str, Any]]) -> Iterator[bytes]:
    """A JSON object, written as it goes: each member's value is a plain value, or an iterator of
    elements (``Iterator``), which is written as an array one element at a time."""
    yield b"{"
    for index, (name, value) in enumerate(members):
        yield (b"," if index else b"") + dumps(name) + b":"
        if isinstance(value, Iterator):
            yield from json_array(value)
        else:
            yield dumps(value)
    yield b"}\n"


def json_array(elements: Iterator[Any]) -> Iterator[bytes]:
    """A JSON array written one element at a time, in pieces of about ``PIECE_BYTES``."""
    piece = bytearray(b"[")
    first = True
    for element in elements:
        if not first:
            piece += b","
        piece += dumps(element)
        first = False
        if len(piece) >= PIECE_BYTES:
            yield bytes(piece)
            piece.clear()
    piece += b"]"
    yield bytes(piece)


def each(rows: QuerySet[ModelT], shape: Callable[[ModelT], Any], *, key: str = "pk") -> Iterator[Any]:
    """Every row of ``rows`` in ``shape``, batch by batch."""
    for batch in batches(rows, key=key):
        yield from (shape(row) for row in batch)
