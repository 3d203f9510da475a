"""Render protocol v1's frame tables from the pydantic models in ``parley.wire.frames``.

``docs/protocol.md`` holds the output between ``<!-- frames:begin -->`` and ``<!-- frames:end -->``;
the test suite fails when the two drift apart. Rewrite it with ``python -m parley.wire.doc``.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from parley.wire.frames import CLIENT_FRAMES, SERVER_FRAMES, frame_type
from parley.wire.text import MAX_SEQ

BEGIN, END = "<!-- frames:begin -->", "<!-- frames:end -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def _field_rows(model: type[BaseModel]) -> list[str]:
    rows = []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    for name, info in model.model_fields.items():
        if name in ("type", "ref"):
            continue
        spec = schema["properties"][name]
        kind = _json_type(spec)
        need = "required" if name in required else "optional"
        note = (info.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | {kind} | {need} | {note} |")
    return rows


def _json_type(spec: dict[str, typing.Any]) -> str:
    if "anyOf" in spec:
        return " or ".join(_json_type(option) for option in spec["anyOf"])
    if "$ref" in spec:
        return "object"
    kind = str(spec.get("type", "any"))
    limits = []
    for key, label in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"), ("maxLength", "length ≤")):
        if key in spec:
            limits.append(f"{label} {'2^63-1' if spec[key] == MAX_SEQ else spec[key]}")
    if "pattern" in spec:
        limits.append(f"`{spec['pattern']}`")
    if kind == "array":
        kind = f"array of {_json_type(spec.get('items', {}))}"
    return kind + (f" ({', '.join(limits)})" if limits else "")


def _section(title: str, models: Iterable[type[BaseModel]]) -> list[str]:
    lines = [f"### {title}", ""]
    for model in models:
        doc = (model.__doc__ or "").strip().splitlines()[0]
        lines += [f"#### `{frame_type(model)}`", "", doc, ""]
        rows = _field_rows(model)
        if rows:
            lines += ["| field | JSON type | | meaning |", "|---|---|---|---|", *rows, ""]
        else:
            lines += ["No fields besides `type` (and `ref`).", ""]
    return lines


def render() -> str:
    """The generated part of docs/protocol.md."""
    lines = [BEGIN, "", *_section("Client → server", CLIENT_FRAMES), *_section("Server → client", SERVER_FRAMES)]
    lines.append(END)
    return "\n".join(lines)


def current_block(text: str) -> str:
    """The generated block as it stands in ``text``."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def main() -> None:
    text = DOC.read_text()
    DOC.write_text(text.replace(current_block(text), render()))
    sys.stdout.write(f"rewrote the frame tables in {DOC}\n")


if __name__ == "__main__":
    import django

    django.setup()
    main()
