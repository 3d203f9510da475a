"""What a client may send: sizes, numbers and text Parley stores, and the validators enforcing them.

Used by the frame models (``parley.wire.frames``) and, for a body or an emoji outside a frame, by
the HTTP API and the services. A refusal is a ``ParleyError`` with a sentence naming the rule.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from parley.conf import parley_settings
from parley.wire.errors import ErrorCode, ParleyError

# Largest seq a client may name: PostgreSQL's bigint.
MAX_SEQ = 2**63 - 1
# Deepest nesting of arrays and objects a client frame may have. Protocol frames need 2; the rest
# is room for additions. Checked before parsing, so no parser ever recurses on hostile input.
MAX_JSON_DEPTH = 32
# Most combining marks in a row on one character: Unicode's Stream-Safe Text Format (UAX #15)
# allows 30, more than any script writes; longer runs are "Zalgo" text drawn over other lines.
MAX_COMBINING_RUN = 30


def _check_text(value: str) -> str:
    """Refuse text that cannot be stored or shown faithfully: NUL and other control characters
    (tab and newline excepted), lone surrogates, which are not Unicode text at all, and more than
    ``MAX_COMBINING_RUN`` combining marks stacked on one character.

    Bidirectional controls (U+202A to U+202E, U+2066 to U+2069) are accepted: right-to-left writers
    use them, and the web client isolates every body so they cannot reorder anything around it.
    """
    marks = 0
    for char in value:
        if char in "\n\t":
            marks = 0
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValueError("must not contain control characters such as NUL")
        if category == "Cs":
            raise ValueError("must be valid Unicode (it contains a lone surrogate)")
        marks = marks + 1 if category[0] == "M" else 0
        if marks > MAX_COMBINING_RUN:
            raise ValueError(f"must not stack more than {MAX_COMBINING_RUN} combining marks on one character")
    return value


_JSON_STRUCTURE = re.compile(r'[\[\]{}"\\]')


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON in ``text`` nests arrays and objects more than ``limit`` deep.

    Brackets inside strings do not count. Frames with few brackets are answered from two counts;
    only the rest are scanned, and the scan stops at the first level past the limit.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped_until = -1
    for match in _JSON_STRUCTURE.finditer(text):
        position = match.start()
        if position < escaped_until:
            continue
        char = match.group()
        if in_string:
            if char == "\\":
                escaped_until = position + 2
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def check_json_depth(text: str) -> None:
    """Raise ``ParleyError`` (invalid) when ``text`` nests deeper than ``MAX_JSON_DEPTH``."""
    if json_too_deep(text):
        raise ParleyError(
            "invalid", f"The frame nests arrays or objects more than {MAX_JSON_DEPTH} levels deep; send a flat object."
        )


def _check_body(value: str) -> str:
    limit = parley_settings.MAX_BODY
    if len(value) > limit:
        raise PydanticCustomError(
            "too_large", "is {length} characters long; the limit is {limit}", {"length": len(value), "limit": limit}
        )
    if not value.strip():
        raise ValueError("must not be blank")
    return _check_text(value)


# The most attachment ids one frame can name, whatever PARLEY_ATTACHMENT_MAX_COUNT says: the
# setting is checked with a sentence by the service; this only bounds what a frame can carry.
MAX_ATTACHMENT_IDS = 100

Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]
Ref = Annotated[str, StringConstraints(max_length=128)] | Annotated[int, Field(ge=-MAX_SEQ, le=MAX_SEQ)]
Body = Annotated[str, StringConstraints(min_length=1), AfterValidator(_check_body)]
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_text)]

# A reaction is a short symbol, usually one emoji: 1 to 16 characters (flags, skin tones and ZWJ
# families take several code points), with at least one outside ASCII (a reaction is not a word),
# and no white space, control or bidirectional-control characters, nor '/' (it travels in URL paths).
MAX_EMOJI_LENGTH = 16
# Distinct emoji one message can carry; more is refused, so that a reactions row stays one line.
MAX_REACTIONS_PER_MESSAGE = 20
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_EMOJI_REFUSED = r"\s\x00-\x1F\x7F-\x9F/\u200E\u200F\u202A-\u202E\u2066-\u2069"
# The same rule as a JSON Schema pattern, for the HTTP API's OpenAPI document (length is checked apart).
EMOJI_PATTERN = rf"^[^{_EMOJI_REFUSED}]*[^{_EMOJI_REFUSED}\x00-\x7F][^{_EMOJI_REFUSED}]*$"


def _check_emoji(value: str) -> str:
    for char in value:
        if char.isspace() or char == "/" or char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError("must be one emoji: no white space, control characters, bidirectional controls or '/'")
    if value.isascii():
        raise ValueError("must be an emoji, not plain ASCII text")
    return value


Emoji = Annotated[str, StringConstraints(min_length=1, max_length=MAX_EMOJI_LENGTH), AfterValidator(_check_emoji)]


_body_adapter: TypeAdapter[str] = TypeAdapter(Body)


def validate_body(value: str) -> str:
    """Check a message body outside a frame (the article's protocol, the HTTP API)."""
    try:
        return _body_adapter.validate_python(value)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        code: ErrorCode = "too_large" if error["type"] == "too_large" else "invalid"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ParleyError(code, f"The message {message[:1].lower()}{message[1:]}.") from None


_emoji_adapter: TypeAdapter[str] = TypeAdapter(Emoji)


def validate_emoji(value: str) -> str:
    """Check a reaction's emoji outside a frame (the HTTP API), or raise ``ParleyError`` (invalid)."""
    try:
        return _emoji_adapter.validate_python(value)
    except ValidationError as exc:
        message = str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
        raise ParleyError("invalid", f"The emoji {message[:1].lower()}{message[1:]}.") from None
