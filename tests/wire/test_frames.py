"""The wire contract: frame schemas, error sentences, and docs/protocol.md kept in step."""

from __future__ import annotations

import pytest

from parley.wire import errors, frames
from parley.wire import text as limits
from parley.wire.doc import DOC, current_block, render


def test_docs_protocol_md_matches_the_schemas():
    assert current_block(DOC.read_text()) == render(), "run: python -m parley.wire.doc"


def test_every_client_frame_type_has_a_model_and_a_doc_section():
    text = DOC.read_text()
    for frame_type in frames.CLIENT_FRAME_TYPES:
        assert f"#### `{frame_type}`" in text
        assert frames.parse_client_frame(_minimal(frame_type)).type == frame_type


def _minimal(frame_type: str) -> str:
    fields = {"subscribe": ', "room": "r"', "unsubscribe": ', "room": "r"', "history": ', "room": "r"', "ping": ""}
    fields["send"] = ', "room": "r", "body": "b", "client_id": "c"'
    fields.update(notifications="", notification_read=', "all": true')
    fields.update(edit=', "room": "r", "seq": 1, "body": "b"', delete=', "room": "r", "seq": 1')
    fields["react"] = ', "room": "r", "seq": 1, "emoji": "\U0001f44d", "on": true'
    fields["read"] = ', "room": "r", "seq": 0'
    fields["typing"] = ', "room": "r"'
    return f'{{"type": "{frame_type}"{fields[frame_type]}}}'


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("{", "The frame is not valid JSON; send one JSON object per text frame."),
        ("42", "The frame must be a JSON object with a 'type' field."),
        ("{}", "The frame has no 'type'; expected one of " + ", ".join(frames.CLIENT_FRAME_TYPES) + "."),
        ('{"type": "x"}', "Unknown frame type 'x'; expected one of " + ", ".join(frames.CLIENT_FRAME_TYPES) + "."),
        ('{"type": "subscribe"}', "Field 'room' is required."),
        (
            '{"type": "subscribe", "room": "a b"}',
            "Field 'room' must be a room slug: 1 to 64 letters, digits, '-' or '_'.",
        ),
        (
            '{"type": "send", "room": "r", "body": "", "client_id": "c"}',
            "Field 'body' string should have at least 1 character.",
        ),
        ('{"type": "history", "room": "r", "limit": 0}', "Field 'limit' input should be greater than or equal to 1."),
    ],
)
def test_invalid_frames_are_described_in_a_sentence(text, detail):
    with pytest.raises(errors.ParleyError) as error:
        frames.parse_client_frame(text)
    assert (error.value.code, error.value.detail) == ("invalid", detail)


@pytest.mark.parametrize("ref", ["abc", 7, 0, -3])
def test_the_ref_of_a_broken_frame_is_echoed(ref):
    import json

    with pytest.raises(errors.ParleyError) as error:
        frames.parse_client_frame(json.dumps({"type": "subscribe", "ref": ref}))
    assert error.value.ref == ref


@pytest.mark.parametrize(
    "body",
    ["nul\x00", "bell\x07", "\ud800 lone surrogate", "   \n\t "],
)
def test_bodies_that_cannot_be_stored_faithfully_are_invalid(body):
    with pytest.raises(errors.ParleyError) as error:
        limits.validate_body(body)
    assert error.value.code == "invalid"


@pytest.mark.parametrize(
    "body", ["line one\nline two", "tab\tseparated", "émoji 🎉", "\u202eright-to-left", "e" + "\u0301" * 30]
)
def test_ordinary_unicode_text_is_accepted(body):
    assert limits.validate_body(body) == body


def test_server_frames_serialise_without_null_refs():
    assert frames.Pong().to_json() == '{"type":"pong"}'
    assert (
        frames.Error(ref=3, code="invalid", detail="x").to_json()
        == '{"type":"error","ref":3,"code":"invalid","detail":"x"}'
    )


def test_the_hubs_message_encoding_is_the_message_frame_schema():
    from parley.realtime.hub import message_frame_json

    data = {
        "room": "lobby",
        "seq": 3,
        "id": 9,
        "author": {"id": None, "name": "zed", "guest": True},
        "body": "é <b>",
        "created_at": "2026-11-23T19:20:00.000001Z",
        "client_id": "c",
        "edited_at": None,
        "deleted": False,
        "reactions": {"👍": 2},
        "mine": ["👍"],
        "reply_to": 1,
        "thread_count": 0,
        "attachments": [
            {
                "id": 4,
                "name": "cat.png",
                "content_type": "image/png",
                "size": 120,
                "url": "/files/4/",
                "thumbnail_url": "/files/4/thumbnail/",
                "width": 2,
                "height": 1,
                "animated": False,
            }
        ],
    }
    assert message_frame_json(data) == frames.Message(**data).to_json()
