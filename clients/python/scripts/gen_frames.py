"""Write ``parley_client/frames.py`` from the protocol's JSON Schema.

The schema (``clients/protocol/frames.schema.json``) is generated from the server's frame models,
so the client's frame types follow every protocol change: client frames become ``TypedDict``s (what
the client builds and sends), server frames and the objects inside them become frozen dataclasses
with a ``from_json`` constructor (what the client reads). Run it after the schema changes:

    python clients/python/scripts/gen_frames.py           # rewrite frames.py
    python clients/python/scripts/gen_frames.py --check   # exit 1 when frames.py is stale

It needs only the standard library, so it runs in any Python 3.11+ (no Django, no pydantic).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent
SCHEMA = PACKAGE.parent / "protocol" / "frames.schema.json"
OUTPUT = PACKAGE / "src" / "parley_client" / "frames.py"

Schema = dict[str, Any]

HEADER = '''\
"""Parley protocol v1 frames: generated from clients/protocol/frames.schema.json, do not edit.

Rewrite with ``python clients/python/scripts/gen_frames.py``; a test fails when this file is stale.
Client frames are ``TypedDict``s (JSON objects the client sends); server frames, and the objects
inside them, are frozen dataclasses built with ``from_json``, which ignores fields it does not know
(newer servers may add some) and fills optional ones with their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NotRequired, TypedDict
'''


def ref_name(schema: Schema) -> str:
    """The definition a ``{"$ref": "#/$defs/Name"}`` points to."""
    return str(schema["$ref"]).rsplit("/", 1)[-1]


def python_type(schema: Schema) -> str:
    """The Python annotation of a JSON Schema (the subset pydantic writes for Parley's frames)."""
    if "$ref" in schema:
        return ref_name(schema)
    if "anyOf" in schema:
        parts = [python_type(option) for option in schema["anyOf"]]
        return " | ".join(dict.fromkeys(parts))
    if "const" in schema:
        return f"Literal[{json.dumps(schema['const'])}]"
    if "enum" in schema:
        return f"Literal[{', '.join(json.dumps(value) for value in schema['enum'])}]"
    kind = schema.get("type")
    if kind == "array":
        return f"list[{python_type(schema.get('items', {}))}]"
    if kind == "object":
        values = schema.get("additionalProperties")
        value_type = python_type(values) if isinstance(values, dict) else "Any"
        return f"dict[str, {value_type}]"
    simple = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
    return simple.get(str(kind), "Any")


def converter(schema: Schema, expression: str) -> str:
    """Python code turning the JSON value ``expression`` into the field's type."""
    if "$ref" in schema:
        return f"{ref_name(schema)}.from_json({expression})"
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return f"[{ref_name(schema['items'])}.from_json(item) for item in {expression}]"
    if "anyOf" in schema:
        refs = [option for option in schema["anyOf"] if "$ref" in option]
        if refs:
            return f"None if {expression} is None else {converter(refs[0], expression)}"
    return expression


def docstring(text: str, indent: str) -> list[str]:
    """A docstring's lines, wrapped to the project's width."""
    wrapped = textwrap.wrap(" ".join(text.split()), width=110 - len(indent))
    if len(wrapped) == 1 and len(wrapped[0]) + len(indent) + 6 <= 120:
        return [f'{indent}"""{wrapped[0]}"""']
    return [f'{indent}"""{wrapped[0]}', *(f"{indent}{line}" for line in wrapped[1:]), f'{indent}"""']


def comment(spec: Schema) -> list[str]:
    """A field's description as comment lines above it."""
    return [f"    # {line}" for line in textwrap.wrap(spec.get("description", ""), width=110)]


def union(name: str, members: list[str]) -> list[str]:
    """``name = A | B | ...``, one member a line, as ruff formats a long union."""
    return [f"{name} = (", f"    {members[0]}", *(f"    | {member}" for member in members[1:]), ")"]


def bases(schema: Schema) -> list[str]:
    """The definitions ``schema`` extends (``allOf`` of ``$ref``s), nearest first; none for most."""
    parts = schema.get("allOf", [])
    if any(set(part) != {"$ref"} for part in parts):
        raise ValueError(f"allOf must list $refs only: {parts}")
    return [ref_name(part) for part in parts]


def flattened(name: str, definitions: dict[str, Schema]) -> Schema:
    """Definition ``name`` with the properties and required fields of its bases, theirs first."""
    schema = definitions[name]
    properties: Schema = {}
    required: list[str] = []
    for base in bases(schema):
        inherited = flattened(base, definitions)
        properties.update(inherited["properties"])
        required += inherited.get("required", [])
    properties.update(schema["properties"])
    required += [field for field in schema.get("required", ()) if field not in required]
    return {**schema, "properties": properties, "required": required}


def bases_first(names: list[str], definitions: dict[str, Schema]) -> list[str]:
    """``names`` in their order, except that a class comes after those of ``names`` it extends."""
    ordered: list[str] = []
    for name in names:
        place(name, names, definitions, ordered)
    return ordered


def place(name: str, names: list[str], definitions: dict[str, Schema], ordered: list[str]) -> None:
    """Append ``name`` to ``ordered`` after the classes of ``names`` it extends, unless it is there."""
    if name in ordered:
        return
    for base in bases(definitions[name]):
        if base in names:
            place(base, names, definitions, ordered)
    ordered.append(name)


def client_frame(name: str, schema: Schema) -> list[str]:
    """A ``TypedDict`` for a frame the client sends (a subclass of the frames it extends)."""
    required = set(schema.get("required", ()))
    parents = ", ".join(bases(schema)) or "TypedDict"
    lines = [f"class {name}({parents}):", *docstring(schema.get("description", name), "    "), ""]
    for field, spec in schema["properties"].items():
        annotation = python_type(spec)
        lines += comment(spec)
        lines.append(f"    {field}: {annotation if field in required else f'NotRequired[{annotation}]'}")
    return lines


def server_object(name: str, definitions: dict[str, Schema]) -> list[str]:
    """A frozen dataclass (and its ``from_json``) for a frame the server sends or an object in one;
    a subclass of the definitions it extends, declaring only its own fields."""
    schema = definitions[name]
    whole = flattened(name, definitions)
    properties = {field: spec for field, spec in whole["properties"].items() if field != "type"}
    own = [field for field in schema["properties"] if field != "type"]
    required = set(whole["required"])
    parents = ", ".join(bases(schema))
    lines = ["@dataclass(frozen=True, kw_only=True)", f"class {name}{f'({parents})' if parents else ''}:"]
    lines += docstring(schema.get("description", name), "    ")
    lines.append("")
    frame_type = whole["properties"].get("type", {}).get("const")
    if frame_type is not None:
        lines.append(f"    TYPE: ClassVar[str] = {json.dumps(frame_type)}")
    for field in own:
        spec = properties[field]
        annotation = python_type(spec)
        default = "" if field in required else f" = {json.dumps(spec.get('default')).replace('null', 'None')}"
        default = default.replace("false", "False").replace("true", "True")
        lines += comment(spec)
        lines.append(f"    {field}: {annotation}{default}")
    lines += ["", "    @classmethod", f"    def from_json(cls, data: dict[str, Any]) -> {name}:"]
    lines.append('        """Build it from a decoded JSON object; unknown fields are ignored."""')
    lines.append("        return cls(")
    for field, spec in properties.items():
        if field in required:
            lines.append(f"            {field}={converter(spec, f'data[{json.dumps(field)}]')},")
        else:
            getter = f"data.get({json.dumps(field)}, cls.{field})"
            lines.append(f"            {field}={converter(spec, getter)},")
    lines.append("        )")
    return lines


# Server frames the client consumes itself: replies to its own requests, and frames it turns into
# something of its own (message: ``messages()``; subscribed; unsubscribed: ``RoomLost``; error: an
# exception). Every other server frame type is an event of ``events()``, so a new one is an event of
# both clients at once (the JavaScript client's scripts/gen-types.js keeps the same list; a test in
# tests/clients compares the two).
CONSUMED_FRAME_TYPES = ("message", "subscribed", "unsubscribed", "ack", "history", "pong", "notifications", "error")


def event_frame_types(schema: Schema) -> list[str]:
    """The frame types ``events()`` yields as they come, in the schema's order."""
    return [frame for frame in schema["serverFrameTypes"] if frame not in CONSUMED_FRAME_TYPES]


def union_members(schema: Schema, union: str) -> list[str]:
    return [ref_name(option) for option in schema["$defs"][union]["oneOf"]]


def render(schema: Schema) -> str:
    """The text of ``frames.py`` for ``schema``."""
    definitions: dict[str, Schema] = schema["$defs"]
    client = union_members(schema, "ClientFrame")
    server = union_members(schema, "ServerFrame")
    nested = [name for name in definitions if name not in (*client, *server, "ClientFrame", "ServerFrame")]
    blocks: list[list[str]] = []
    blocks.append(["# Client -> server"])
    blocks += [client_frame(name, definitions[name]) for name in bases_first(client, definitions)]
    blocks.append(["# Objects inside server frames"])
    blocks += [server_object(name, definitions) for name in bases_first(nested, definitions)]
    blocks.append(["# Server -> client"])
    blocks += [server_object(name, definitions) for name in bases_first(server, definitions)]
    mapping = schema["$defs"]["ServerFrame"]["discriminator"]["mapping"]
    blocks.append(
        [
            *union("ClientFrame", client),
            *union("ServerFrame", server),
            "",
            "# Each server frame's class by its ``type``.",
            "SERVER_FRAMES: dict[str, type[ServerFrame]] = {",
            *(f"    {json.dumps(frame)}: {ref_name({'$ref': target})}," for frame, target in mapping.items()),
            "}",
            "CLIENT_FRAME_TYPES: tuple[str, ...] = (",
            *(f"    {json.dumps(frame)}," for frame in schema["clientFrameTypes"]),
            ")",
        ]
    )
    events = event_frame_types(schema)
    blocks.append(
        [
            "# The server frames ``ParleyClient.events()`` yields as they come (the client consumes the others).",
            *union("FrameEvent", [ref_name({"$ref": mapping[frame]}) for frame in events]),
            "EVENT_FRAME_TYPES: tuple[str, ...] = (",
            *(f"    {json.dumps(frame)}," for frame in events),
            ")",
        ]
    )
    body = "\n\n\n".join("\n".join(block) for block in blocks)
    return f"{HEADER}\n{body}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if frames.py is not what the schema gives")
    args = parser.parse_args(argv)
    text = render(json.loads(SCHEMA.read_text(encoding="utf-8")))
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            sys.stderr.write(f"{OUTPUT} is stale: run python {Path(__file__).as_posix()}\n")
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
