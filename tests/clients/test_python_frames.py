"""The Python client's frame types (``parley_client.frames``) follow the protocol's JSON Schema.

``clients/protocol/frames.schema.json`` is generated from the server's frame models (and checked
against them by tests/wire); ``frames.py`` is generated from that file by
``clients/python/scripts/gen_frames.py``. These tests fail when it is stale.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import fields
from types import ModuleType

from parley_client import frames as client_frames
from tests.frames import sample_message_frame
from tests.servers import REPO

GENERATOR = REPO / "clients" / "python" / "scripts" / "gen_frames.py"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_frames", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_frames_module_is_up_to_date():
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_a_protocol_change_makes_the_frames_module_stale():
    generator = load_generator()
    schema = json.loads(generator.SCHEMA.read_text())
    current = generator.OUTPUT.read_text()
    assert generator.render(schema) == current
    schema["$defs"]["Ack"]["properties"]["queued_at"] = {"type": "string"}
    assert generator.render(schema) != current
    # Every server frame type has its class, and every client frame type its TypedDict.
    assert set(client_frames.SERVER_FRAMES) == set(schema["serverFrameTypes"])
    assert set(client_frames.CLIENT_FRAME_TYPES) == set(schema["clientFrameTypes"])


def test_a_frame_that_extends_another_definition_is_a_subclass_that_restates_nothing():
    assert issubclass(client_frames.Message, client_frames.MessageData)
    own = set(client_frames.Message.__annotations__) - {"TYPE"}
    assert own == set(), f"Message restates {sorted(own)} of MessageData"
    assert [field.name for field in fields(client_frames.Message)] == [
        field.name for field in fields(client_frames.MessageData)
    ]
    frame = sample_message_frame(
        seq=3, author={"id": None, "name": "guest-1", "guest": True}, reactions={"👍": 2}, added_by_a_newer_server=True
    )
    message = client_frames.Message.from_json(frame)
    assert message.TYPE == "message"
    assert (message.room, message.seq, message.author.guest, message.reactions) == ("lobby", 3, True, {"👍": 2})
    assert message.attachments == []
