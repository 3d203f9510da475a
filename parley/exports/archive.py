"""Writing a JSON document as a stream of text pieces, from batches of rows read by key.

An archive is an object whose big members are arrays; each array is written element by element
from ``batches``, which reads ``BATCH`` rows at a time with ``pk > last`` (keyset paging). That,
rather than one ``QuerySet.iterator()``, is what keeps memory and the database flat: each batch is
a short query of its own, where a server-side cursor on PostgreSQL would hold a transaction (or
a ``WITH HOLD`` copy of the whole result) open for as long as the download lasts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

BATCH = 500

ModelT = TypeVar("ModelT", bound=Model)


def dumps(value: Any) -> str:
    """One JSON value, compact, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


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


def json_object(members: Iterable[tuple[str, Any]]) -> Iterator[str]:
    """A JSON object, written as it goes: each member's value is a plain value, or an iterator of
    elements (``Iterator``), which is written as an array one element at a time."""
    yield "{"
    for index, (name, value) in enumerate(members):
        yield ("," if index else "") + dumps(name) + ":"
        if isinstance(value, Iterator):
            yield from json_array(value)
        else:
            yield dumps(value)
    yield "}\n"


def json_array(elements: Iterator[Any]) -> Iterator[str]:
    """A JSON array written one element at a time (about one batch of text per piece)."""
    yield "["
    first = True
    pending: list[str] = []
    for element in elements:
        pending.append(("" if first else ",") + dumps(element))
        first = False
        if len(pending) >= BATCH:
            yield "".join(pending)
            pending = []
    if pending:
        yield "".join(pending)
    yield "]"


def each(rows: QuerySet[ModelT], shape: Callable[[ModelT], Any], *, key: str = "pk") -> Iterator[Any]:
    """Every row of ``rows`` in ``shape``, batch by batch."""
    for batch in batches(rows, key=key):
        yield from (shape(row) for row in batch)
