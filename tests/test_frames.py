"""The frame and event checker of ``tests/frames.py`` refuses what its models do not allow."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parley.events import publish as events
from parley.wire.doc import SERVER_FRAMES
from tests.frames import (
    EVENT_MODELS,
    SERVER_FRAME_MODELS,
    CheckedPublish,
    FrameMismatch,
    check_event,
    check_frame,
    check_tutorial_frame,
    received_frame,
    speaks_tutorial,
)

ALICE = {"id": 1, "name": "alice", "guest": False}
MESSAGE = {
    "room": "lobby",
    "seq": 3,
    "id": 40,
    "author": ALICE,
    "body": "hello",
    "created_at": "2025-01-02T03:04:05.123456Z",
    "client_id": "c-1",
    "edited_at": None,
    "deleted": False,
    "reactions": {"👍": 2},
    "mine": [],
    "reply_to": 1,
    "thread_count": 0,
    "attachments": [
        {
            "id": 5,
            "name": "cat.gif",
            "content_type": "image/gif",
            "size": 2048,
            "url": "/files/5/",
            "thumbnail_url": "/files/5/thumbnail/",
            "width": 64,
            "height": 48,
            "animated": True,
        }
    ],
}
NOTIFICATION = {
    "id": 9,
    "kind": "order.status",
    "data": {"order_id": 7, "status": "shipped"},
    "created_at": "2025-01-02T03:04:05Z",
    "read": False,
    "text": "Order #7 is now shipped.",
    "url": "/orders/7/",
}
# One frame of every server frame type, as the server writes it.
SAMPLES: dict[str, dict[str, Any]] = {
    "message": {"type": "message", **MESSAGE},
    "subscribed": {"type": "subscribed", "ref": "s1", "room": "lobby", "head": 3, "truncated": False},
    "unsubscribed": {"type": "unsubscribed", "room": "lobby"},
    "ack": {"type": "ack", "ref": 7, "room": "lobby", "client_id": "c-1", "seq": 3, "id": 40},
    "history": {"type": "history", "room": "lobby", "messages": [MESSAGE], "thread": None},
    "pong": {"type": "pong"},
    "notification": {"type": "notification", **NOTIFICATION},
    "notifications": {"type": "notifications", "ref": "n", "unread": 1, "truncated": False},
    "notifications_unread": {"type": "notifications_unread", "count": 0},
    "message_updated": {
        "type": "message_updated",
        "room": "lobby",
        "seq": 3,
        "body": "",
        "edited_at": None,
        "deleted": True,
    },
    "reactions": {"type": "reactions", "room": "lobby", "seq": 3, "counts": {"👍": 1}, "mine": ["👍"]},
    "thread": {"type": "thread", "room": "lobby", "seq": 1, "thread_count": 2, "last_reply": 3},
    "unread": {"type": "unread", "room": "lobby", "count": 2, "last_read": 1},
    "presence": {"type": "presence", "room": "lobby", "online": [ALICE]},
    "presence_diff": {"type": "presence_diff", "room": "lobby", "joined": [], "left": [ALICE]},
    "typing": {"type": "typing", "room": "lobby", "user": {"id": None, "name": "zed", "guest": True}},
    "error": {"type": "error", "ref": "x", "code": "rate_limited", "detail": "Slow down.", "retry_after": 1.5},
}


def test_every_server_frame_model_is_checked_and_documented():
    assert set(SERVER_FRAME_MODELS) == set(SAMPLES)
    assert set(SERVER_FRAME_MODELS.values()) == set(SERVER_FRAMES)


@pytest.mark.parametrize("frame_type", sorted(SAMPLES))
def test_a_frame_as_its_model_writes_it_passes(frame_type):
    assert check_frame(json.loads(json.dumps(SAMPLES[frame_type]))) == SAMPLES[frame_type]


@pytest.mark.parametrize("frame_type", sorted(SAMPLES))
def test_a_frame_without_a_required_field_fails_and_one_without_an_optional_field_passes(frame_type):
    fields = SERVER_FRAME_MODELS[frame_type].model_fields
    for field in set(SAMPLES[frame_type]) - {"type"}:
        frame = {key: value for key, value in SAMPLES[frame_type].items() if key != field}
        if fields[field].is_required():
            with pytest.raises(FrameMismatch):
                check_frame(frame)
        else:  # ref, retry_after: written only when they have a value
            assert check_frame(frame) == frame


@pytest.mark.parametrize("frame_type", sorted(SAMPLES))
def test_a_frame_with_a_field_its_model_does_not_have_fails(frame_type):
    with pytest.raises(FrameMismatch, match="fields not in the model \\['extra'\\]"):
        check_frame({**SAMPLES[frame_type], "extra": 1})


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "ack", "room": "lobby", "client_id": "c-1", "seq": "3", "id": 40},  # a number as a string
        {"type": "ack", "room": "lobby", "client_id": "c-1", "seq": 3.5, "id": 40},
        {"type": "unread", "room": "lobby", "count": True, "last_read": 1},  # a bool is not a count
        {"type": "subscribed", "room": "lobby", "head": 3, "truncated": 0},
        {"type": "presence", "room": "lobby", "online": [{"id": "1", "name": "alice", "guest": False}]},
        {"type": "error", "code": "teapot", "detail": "No such code."},
        {"type": "pong", "ref": None},  # a frame without ref carries none, not null
        {"type": "error", "code": "invalid", "detail": "x", "retry_after": None},
        {"type": "typing", "room": "lobby", "user": {**ALICE, "email": "a@example.com"}},  # nested extra field
        {"room": "lobby", "type": "unsubscribed"},  # 'type' comes first on the wire
    ],
)
def test_a_frame_with_a_wrong_value_fails(frame):
    with pytest.raises(FrameMismatch):
        check_frame(frame)


@pytest.mark.parametrize("frame", [{"type": "announcement", "text": "hi"}, {"room": "lobby"}, [], "pong", None])
def test_a_frame_of_no_known_type_fails(frame):
    with pytest.raises(FrameMismatch):
        check_frame(frame)


@pytest.mark.parametrize("text", [b'{"type": "pong"}', "{", '{"type": "pong"} x'])
def test_a_received_frame_must_be_json_text(text):
    assert received_frame('{"type":"pong"}') == {"type": "pong"}
    with pytest.raises(FrameMismatch):
        received_frame(text)


def test_the_articles_protocol_sends_message_frames_and_errors():
    assert check_tutorial_frame({"message": "hi"}) == {"message": "hi"}
    assert check_tutorial_frame(SAMPLES["error"]) == SAMPLES["error"]
    for frame in ({"message": 1}, {"message": "hi", "seq": 1}, {}, SAMPLES["pong"], {**SAMPLES["error"], "x": 1}):
        with pytest.raises(FrameMismatch):
            check_tutorial_frame(frame)
    with pytest.raises(FrameMismatch):
        received_frame('{"message": "hi"}')  # not a protocol v1 frame


@pytest.mark.parametrize(
    ("url", "tutorial"),
    [
        ("/ws/", False),
        ("/ws/?name=zed", False),
        ("/ws/chat/lobby/", True),
        ("/chat/ws/chat/lobby/", True),
        ("ws://127.0.0.1:8000/ws/chat/lobby/?x=1", True),
        ("/ws/echo/", False),
    ],
)
def test_the_articles_endpoint_is_known_by_its_path(url, tutorial):
    assert speaks_tutorial(url) is tutorial


# --- events ------------------------------------------------------------------------------------

EVENTS: dict[str, tuple[str, dict[str, Any]]] = {
    events.ROOM_MESSAGE: (
        events.room_group(5),
        {"type": events.ROOM_MESSAGE, "room_id": 5, "seq": 3, "message": MESSAGE, "stored_at": 1.5},
    ),
    events.ROOM_FRAME: (
        events.room_group(5),
        {
            "type": events.ROOM_FRAME,
            "room_id": 5,
            "frame": {**SAMPLES["reactions"], "mine": []},
            "exclude": None,
            "personal": {"1": {"mine": ["👍"]}},
        },
    ),
    events.ROOMS_FRAMES: (
        events.ROOMS_GROUP,
        {
            "type": events.ROOMS_FRAMES,
            "frames": [
                {"room_id": 5, "frame": SAMPLES["presence_diff"]},
                {"room_id": 6, "frame": SAMPLES["presence_diff"]},
            ],
        },
    ),
    events.ROOM_KICK: (
        events.room_group(5),
        {"type": events.ROOM_KICK, "room_id": 5, "user_id": 1, "detail": "You were banned."},
    ),
    events.ROOM_CLOSED: (
        events.room_group(5),
        {"type": events.ROOM_CLOSED, "room_id": 5, "readers": [1, 2], "detail": "The room is private now."},
    ),
    events.USER_NOTIFICATION: (
        events.user_group(1),
        {"type": events.USER_NOTIFICATION, "user_id": 1, "notification": NOTIFICATION, "unread": 1},
    ),
    events.USER_UNREAD: (events.user_group(1), {"type": events.USER_UNREAD, "user_id": 1, "unread": 0}),
    events.USER_FRAME: (events.user_group(1), {"type": events.USER_FRAME, "user_id": 1, "frame": SAMPLES["unread"]}),
    events.TOKEN_REVOKED: (events.TOKENS_GROUP, {"type": events.TOKEN_REVOKED, "user_id": 1, "token_id": 4}),
    events.USER_SIGNED_OUT: (
        events.TOKENS_GROUP,
        {
            "type": events.USER_SIGNED_OUT,
            "user_id": 1,
            "detail": "Signed out.",
            "session_key": "k",
            "session_hash": None,
        },
    ),
}


def test_every_event_type_has_a_model():
    published = {
        value for name, value in vars(events).items() if name.isupper() and isinstance(value, str) and "." in value
    }
    published -= {events.TOKENS_GROUP, events.ROOMS_GROUP}
    assert set(EVENT_MODELS) == published == set(EVENTS)


@pytest.mark.parametrize("event_type", sorted(EVENTS))
def test_an_event_of_its_shape_passes_and_one_with_a_field_more_or_less_fails(event_type):
    group, event = EVENTS[event_type]
    check_event(group, event)
    with pytest.raises(FrameMismatch):
        check_event(group, {**event, "extra": 1})
    for field in set(event) - {"type"}:
        with pytest.raises(FrameMismatch):
            check_event(group, {key: value for key, value in event.items() if key != field})
    with pytest.raises(FrameMismatch, match="went to"):
        check_event("parley.elsewhere", event)


@pytest.mark.parametrize(
    ("event_type", "change"),
    [
        (events.ROOM_MESSAGE, {"message": {**MESSAGE, "author": {"id": 1, "name": "alice"}}}),
        (events.ROOM_MESSAGE, {"seq": 4}),  # not its message's seq
        (events.ROOM_FRAME, {"frame": {"type": "announcement", "room": "lobby"}}),
        (events.ROOM_FRAME, {"personal": {"1": {"mine": "👍"}}}),  # the frame one user gets is not valid
        (events.USER_FRAME, {"frame": {**SAMPLES["unread"], "count": "2"}}),
        (events.USER_NOTIFICATION, {"notification": {**NOTIFICATION, "read": None}}),
        (events.USER_UNREAD, {"unread": "1"}),
        (events.TOKEN_REVOKED, {"token_id": "4"}),
    ],
)
def test_an_event_whose_fields_or_frames_are_wrong_fails(event_type, change):
    group, event = EVENTS[event_type]
    with pytest.raises(FrameMismatch):
        check_event(group, {**event, **change})


def test_an_event_of_no_known_type_fails():
    with pytest.raises(FrameMismatch, match="no event model"):
        check_event(events.room_group(5), {"type": "room.annouce", "room_id": 5})


def test_the_checked_publish_keeps_the_mismatch_and_sends_the_event_as_is():
    sent: list[tuple[str, dict[str, Any]]] = []
    publish = CheckedPublish(lambda group, event: sent.append((group, event)))
    group, event = EVENTS[events.USER_UNREAD]
    wrong = {**event, "unread": "1"}
    publish(group, event)
    publish(group, wrong)
    assert sent == [(group, event), (group, wrong)]
    assert len(publish.mismatches) == 1
    assert "user.unread" in publish.mismatches[0]
