"""Both clients' lists of events are generated from the protocol's server frame types.

``serverFrameTypes`` (clients/protocol/frames.schema.json) minus the frames a client consumes itself
(replies, and frames it turns into events of its own) are the server frames each client passes on
as events: ``FrameEventMap`` in the JavaScript client's src/frames.d.ts and ``FrameEvent`` in the
Python client's frames.py. These tests fail when the two clients' lists differ, or when either
client's own events stop including them; the tests of each generated file fail when it is stale.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import typing

from conftest import needs
from parley_client import events
from parley_client import frames as client_frames
from tests.clients.test_python_frames import load_generator
from tests.servers import REPO

SCHEMA = json.loads((REPO / "clients" / "protocol" / "frames.schema.json").read_text())
JS_TYPES = REPO / "clients" / "js" / "src" / "frames.d.ts"
JS_GENERATOR = REPO / "clients" / "js" / "scripts" / "gen-types.js"


def js_frame_events() -> dict[str, str]:
    """The JavaScript client's ``FrameEventMap``: each event's name and its frame type's name."""
    found = re.search(r"^export interface FrameEventMap \{\n(?P<body>.*?)^\}$", JS_TYPES.read_text(), re.M | re.S)
    assert found is not None, "src/frames.d.ts has no FrameEventMap"
    return dict(re.findall(r"^  (\w+): (\w+);$", found["body"], re.M))


def test_both_clients_pass_on_the_same_server_frames_as_events() -> None:
    python = {frame: client_frames.SERVER_FRAMES[frame].__name__ for frame in client_frames.EVENT_FRAME_TYPES}
    assert python, "no server frame is an event"
    assert js_frame_events() == python
    assert [each.__name__ for each in typing.get_args(client_frames.FrameEvent)] == list(python.values())


def test_every_server_frame_type_is_an_event_or_consumed_by_the_client() -> None:
    consumed = load_generator().CONSUMED_FRAME_TYPES
    assert set(consumed) <= set(SCHEMA["serverFrameTypes"])
    assert [frame for frame in SCHEMA["serverFrameTypes"] if frame not in consumed] == list(
        client_frames.EVENT_FRAME_TYPES
    )


def test_both_generators_leave_out_the_same_frame_types() -> None:
    needs("Node.js", shutil.which("node") is not None, "install node")
    script = f"import {{ CONSUMED_FRAME_TYPES }} from {json.dumps(JS_GENERATOR.as_uri())};"
    script += "console.log(JSON.stringify(CONSUMED_FRAME_TYPES));"
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == list(load_generator().CONSUMED_FRAME_TYPES)


def test_the_python_clients_events_are_the_frame_events_and_its_own() -> None:
    assert set(typing.get_args(events.Event)) == {
        *typing.get_args(client_frames.FrameEvent),
        events.ConnectionState,
        events.RoomLost,
    }


def test_a_new_server_frame_type_is_an_event_once_regenerated() -> None:
    generator = load_generator()
    schema = json.loads(json.dumps(SCHEMA))
    schema["serverFrameTypes"].append("shout")
    schema["$defs"]["Shout"] = {
        "description": "Someone shouted.",
        "properties": {"type": {"const": "shout", "type": "string"}, "room": {"type": "string"}},
        "required": ["type", "room"],
        "type": "object",
    }
    schema["$defs"]["ServerFrame"]["oneOf"].append({"$ref": "#/$defs/Shout"})
    schema["$defs"]["ServerFrame"]["discriminator"]["mapping"]["shout"] = "#/$defs/Shout"
    rendered = generator.render(schema)
    assert re.search(r"^FrameEvent = \((?:\n    (?:\| )?\w+)*\n    \| Shout\n\)$", rendered, re.M)
    assert '    "shout",\n)' in rendered
