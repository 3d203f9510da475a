"""Protocol v1 as a JSON Schema document, for the client libraries.

``clients/protocol/frames.schema.json`` is this module's output: every frame model of
``parley.wire.frames`` under ``$defs``, and ``ClientFrame`` / ``ServerFrame`` as unions over the
``type`` field. The JavaScript client's TypeScript declarations and the Python client's frame types
are generated from that file, so a protocol change reaches both; the test suite fails when the
file and the models drift apart. Rewrite it with ``python -m parley.wire.schema``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from parley.wire.frames import CLIENT_FRAMES, SERVER_FRAMES, frame_type

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "clients" / "protocol" / "frames.schema.json"
SCHEMA_ID = "https://parley.invalid/protocol/v1/frames.schema.json"


def _union(models: tuple[type[Any], ...]) -> dict[str, Any]:
    return {
        "oneOf": [{"$ref": f"#/$defs/{model.__name__}"} for model in models],
        "discriminator": {
            "propertyName": "type",
            "mapping": {frame_type(model): f"#/$defs/{model.__name__}" for model in models},
        },
    }


def protocol_schema() -> dict[str, Any]:
    """The JSON Schema of every frame: client frames as the server validates them, server frames
    as the server writes them."""
    inputs = [(model, "validation") for model in CLIENT_FRAMES] + [(model, "serialization") for model in SERVER_FRAMES]
    _, document = models_json_schema(inputs, ref_template="#/$defs/{model}")  # type: ignore[arg-type]
    definitions = document["$defs"]
    for model in SERVER_FRAMES:
        # A server frame always carries its type (the models give it as a default value).
        required = definitions[model.__name__].setdefault("required", [])
        if "type" not in required:
            required.insert(0, "type")
    definitions["ClientFrame"] = _union(CLIENT_FRAMES)
    definitions["ServerFrame"] = _union(SERVER_FRAMES)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Parley protocol v1",
        "description": "Every WebSocket frame of Parley's protocol v1; see docs/protocol.md.",
        "clientFrameTypes": [frame_type(model) for model in CLIENT_FRAMES],
        "serverFrameTypes": [frame_type(model) for model in SERVER_FRAMES],
        "$defs": dict(sorted(definitions.items())),
    }


def render() -> str:
    """The file's text: the schema as indented JSON, ending with a newline."""
    return json.dumps(protocol_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    SCHEMA_FILE.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_FILE.write_text(render())
    sys.stdout.write(f"wrote {SCHEMA_FILE}\n")


if __name__ == "__main__":
    main()
