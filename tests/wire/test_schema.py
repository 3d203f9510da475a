"""The clients' JSON Schema: generated from the frame models, and what the server sends obeys it."""

from __future__ import annotations

import jsonschema

from parley.wire.schema import SCHEMA_FILE, protocol_schema, render
from tests.frames import sample_message_frame, schema_validator


def test_the_clients_schema_file_matches_the_frame_models():
    assert SCHEMA_FILE.read_text() == render(), "run: python -m parley.wire.schema"


def test_the_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(protocol_schema())


def test_a_frame_of_an_unknown_type_or_with_a_wrong_field_fails_the_schema():
    validator = schema_validator("ServerFrame")
    assert validator.is_valid({"type": "pong"})
    assert not validator.is_valid({"type": "pongs"})
    assert not validator.is_valid({"type": "ack", "room": "lobby", "client_id": "c", "seq": "1", "id": 2})


def test_client_frames_are_described_as_the_server_validates_them():
    validator = schema_validator("ClientFrame")
    assert validator.is_valid({"type": "send", "room": "lobby", "body": "hi", "client_id": "c1"})
    assert not validator.is_valid({"type": "send", "room": "no spaces", "body": "hi", "client_id": "c1"})
    assert not validator.is_valid({"type": "subscribe"})


def test_a_frame_that_extends_another_model_is_allof_its_definition():
    definitions = protocol_schema()["$defs"]
    message = definitions["Message"]
    assert message["allOf"] == [{"$ref": "#/$defs/MessageData"}]
    # Only what Message adds to MessageData: the clients' types inherit the rest.
    assert list(message["properties"]) == ["type"]
    assert message["required"] == ["type"]
    assert "allOf" not in definitions["MessageData"]
    # Still the same frame: the whole message, and nothing without its type.
    validator = schema_validator("Message")
    frame = sample_message_frame()
    assert validator.is_valid(frame)
    assert not validator.is_valid({key: value for key, value in frame.items() if key != "type"})
    assert not validator.is_valid({key: value for key, value in frame.items() if key != "seq"})
