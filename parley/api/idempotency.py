"""The ``Idempotency-Key`` header: a client's id for a write, so that retrying it stores nothing new.

It becomes the stored message's ``client_id``, the same id a WebSocket ``send`` carries, so one rule
(same sender, same room, same id → the first message) covers both transports.
"""

from __future__ import annotations

import uuid
from typing import Any

from ninja.params.functions import Header
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from parley.wire.errors import ParleyError
from parley.wire.text import ClientId

_client_id_adapter: TypeAdapter[str] = TypeAdapter(ClientId)


def idempotency_key_header(description: str) -> Any:
    """The ``Idempotency-Key`` header's declaration, for ``Annotated[str | None, …]`` parameters."""
    return Header(alias="Idempotency-Key", min_length=1, max_length=64, description=description)


def client_id_from_header(idempotency_key: str | None) -> str:
    """The ``client_id`` for a write: the header's value, or a fresh UUID when there is none."""
    if idempotency_key is None:
        return str(uuid.uuid4())
    try:
        return _client_id_adapter.validate_python(idempotency_key)
    except PydanticValidationError:
        raise ParleyError(
            "invalid", "Header 'Idempotency-Key' must be 1 to 64 printable characters, e.g. a UUID."
        ) from None
