"""Protocol v1 as a JSON Schema document, for the client libraries.

``clients/protocol/frames.schema.json`` is this module's output: every frame model of
``parley.wire.frames`` under ``$defs``, and ``ClientFrame`` / ``ServerFrame`` as unions over the
``type`` field. A model that extends another's (``Message``, a ``MessageData`` with a ``type``) is
``allOf`` that definition and its own fields. The JavaScript client's TypeScript declarations and
the Python client's frame types are generated from that file, so a protocol change reaches both;
the test suite fails when the file and the models drift apart. Rewrite it with ``python -m parley.wire.schema``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from parley.wire import frames
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


# Every model of the protocol module by name: the names pydantic gives their definitions.
_MODELS: dict[str, type[BaseModel]] = {
    name: model for name, model in vars(frames).items() if isinstance(model, type) and issubclass(model, BaseModel)
}


def _nearest_base(name: str, definitions: dict[str, Any]) -> str | None:
    """The nearest base class of model ``name`` that has a definition of its own, if any."""
    model = _MODELS.get(name)
    bases = model.__mro__[1:] if model is not None else ()
    named = (base.__name__ for base in bases if _MODELS.get(base.__name__) is base and base.__name__ in definitions)
    return next(named, None)


def _with_bases(definitions: dict[str, Any]) -> dict[str, Any]:
    """``definitions``, where a model extends the model of another definition (``Message`` is a
    ``MessageData``) saying so: ``allOf`` that base, and only the fields it adds or changes. The
    clients' generated types then inherit instead of repeating every field."""
    result = dict(definitions)
    for name, definition in definitions.items():
        base = _nearest_base(name, definitions)
        if base is None:
            continue
        inherited = definitions[base]["properties"]
        inherited_required = set(definitions[base].get("required", ()))
        own = {field: spec for field, spec in definition["properties"].items() if inherited.get(field) != spec}
        result[name] = {
            **{key: value for key, value in definition.items() if key not in ("properties", "required")},
            "allOf": [{"$ref": f"#/$defs/{base}"}],
            "properties": own,
            "required": [field for field in definition.get("required", ()) if field not in inherited_required],
        }
    return result


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
    definitions = _with_bases(definitions)
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
