"""Input limits at the WebSocket: every hostile or malformed frame gets a defined answer, nothing is stored.

The table below is the contract: each frame, the error code it must get (or ``None`` where the text
is ordinary and must be stored exactly as sent), and whether the reply echoes its ``ref``. After every
case the socket must still answer a ping, and the database must hold only what was acknowledged.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from parley.rooms.models import Message
from parley.wire import frames
from parley.wire import text as limits

pytestmark = pytest.mark.django_db(transaction=True)

MAX_BODY = 4000  # PARLEY_MAX_BODY's default, which the suite runs with
MAX_FRAME = 64 * 1024


def send(body: object, **extra: object) -> str:
    return json.dumps({"type": "send", "room": "lobby", "body": body, "client_id": "c-1", **extra})


def nested(depth: int) -> str:
    """A send frame with an extra field nested ``depth`` arrays deep (the frame itself is one more)."""
    return '{"type": "send", "room": "lobby", "body": "hi", "client_id": "c-1", "x": ' + "[" * depth + "]" * depth + "}"


def field(frame_type: str, **fields: object) -> str:
    return json.dumps({"type": frame_type, **fields})


def raw_number(frame_type: str, name: str, number: str, **fields: object) -> str:
    """A frame whose ``name`` is the JSON number text ``number``, exactly as written."""
    return json.dumps({"type": frame_type, **fields})[:-1] + f', "{name}": {number}}}'


COMBINING_ACUTE = "\u0301"

# (case, frame text, expected error code or None for "stored as sent")
CASES: list[tuple[str, str, str | None]] = [
    # --- body length, counted in characters -------------------------------------------------
    ("body at the limit", send("x" * MAX_BODY), None),
    ("body one over the limit", send("x" * (MAX_BODY + 1)), "too_large"),
    ("astral body at the limit", send("😀" * MAX_BODY), None),
    ("empty body", send(""), "invalid"),
    ("blank body", send(" \n\t "), "invalid"),
    ("body of the wrong type", send(["a"]), "invalid"),
    # --- JSON nesting depth -----------------------------------------------------------------
    ("64 KiB of [", "[" * (MAX_FRAME - 1), "invalid"),
    ("64 KiB of {", '{"a":' * (MAX_FRAME // 5), "invalid"),
    ("nested 33 deep", nested(32), "invalid"),
    ("nested 32 deep", nested(31), None),
    ("brackets inside a string do not nest", send("[" * 1000 + "{" * 1000), None),
    # --- ref --------------------------------------------------------------------------------
    ("ref of 128 characters", send("hi", ref="r" * 128), None),
    ("ref of 129 characters", send("hi", ref="r" * 129), "invalid"),
    ("ref as a float", send("hi", ref=1.5), "invalid"),
    ("ref as a boolean", send("hi", ref=True), "invalid"),
    ("ref as an object", send("hi", ref={"a": 1}), "invalid"),
    ("ref past 2^63", raw_number("ping", "ref", str(2**63)), "invalid"),
    ("ref with a lone surrogate", '{"type": "ping", "ref": "\\ud800"}', "invalid"),
    # --- room slug --------------------------------------------------------------------------
    ("slug with a space", field("subscribe", room="a b"), "invalid"),
    ("empty slug", field("subscribe", room=""), "invalid"),
    ("slug of 65 characters", field("subscribe", room="a" * 65), "invalid"),
    ("slug with a trailing newline", field("subscribe", room="lobby\n"), "invalid"),
    ("slug with a path", field("subscribe", room="../lobby"), "invalid"),
    ("slug with a non-ASCII letter", field("subscribe", room="löbby"), "invalid"),
    ("slug with NUL", field("subscribe", room="lob\x00by"), "invalid"),
    ("slug as a number", field("subscribe", room=5), "invalid"),
    # --- number ranges ----------------------------------------------------------------------
    ("since -1", field("subscribe", room="lobby", since=-1), "invalid"),
    ("since 2^63", raw_number("subscribe", "since", str(2**63), room="lobby"), "invalid"),
    ("since of 5000 digits", raw_number("subscribe", "since", "9" * 5000, room="lobby"), "invalid"),
    ("since 1e400", raw_number("subscribe", "since", "1e400", room="lobby"), "invalid"),
    ("since NaN", raw_number("subscribe", "since", "NaN", room="lobby"), "invalid"),
    ("since 1.5", field("subscribe", room="lobby", since=1.5), "invalid"),
    ("since as a string", field("subscribe", room="lobby", since="3"), "invalid"),
    ("since as a boolean", field("subscribe", room="lobby", since=True), "invalid"),
    ("history limit 0", field("history", room="lobby", limit=0), "invalid"),
    ("history limit 101", field("history", room="lobby", limit=101), "invalid"),
    ("history limit 1e2", raw_number("history", "limit", "1e2", room="lobby"), "invalid"),
    ("history before -1", field("history", room="lobby", before=-1), "invalid"),
    # --- Unicode ------------------------------------------------------------------------------
    ("NUL in the body", send("a\x00b"), "invalid"),
    ("escape character in the body", send("a\x1b[31mred"), "invalid"),
    (
        "lone surrogate escape in the body",
        '{"type": "send", "room": "lobby", "body": "\\udc00", "client_id": "c"}',
        "invalid",
    ),
    (
        "lone surrogate escape in the client_id",
        '{"type": "send", "room": "lobby", "body": "hi", "client_id": "\\ud800"}',
        "invalid",
    ),
    ("NUL in the client_id", send("hi", client_id="c\x00"), "invalid"),
    ("client_id of 65 characters", send("hi", client_id="c" * 65), "invalid"),
    ("right-to-left override", send("abc\u202edcba"), None),
    ("every bidi control", send("x\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069y"), None),
    ("10,000 combining marks", send("e" + COMBINING_ACUTE * 10_000), "too_large"),
    ("31 combining marks on one letter", send("e" + COMBINING_ACUTE * 31), "invalid"),
    ("30 combining marks on one letter", send("e" + COMBINING_ACUTE * 30), None),
    ("combining marks spread over letters", send(("e" + COMBINING_ACUTE * 3) * 900), None),
    ("emoji ZWJ sequence and flags", send("👩‍👩‍👧‍👦 🇫🇷 🏳️‍🌈"), None),
    ("byte order mark before the frame", "\ufeff" + field("ping"), "invalid"),
    # --- shape ----------------------------------------------------------------------------------
    ("not JSON", "{", "invalid"),
    ("a JSON array", "[]", "invalid"),
    ("a JSON string", '"ping"', "invalid"),
    ("trailing garbage", field("ping") + " x", "invalid"),
    ("unknown type", field("launch"), "invalid"),
    ("type of the wrong case", field("PING"), "invalid"),
]


@pytest.fixture
async def alice(make_user):
    return await sync_to_async(make_user)("alice")


@pytest.fixture
async def lobby(make_room):
    return await sync_to_async(make_room)("lobby")


def stored() -> list[tuple[str, str]]:
    return list(Message.objects.values_list("body", "client_id"))


@pytest.mark.parametrize(("text", "code"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
async def test_each_frame_gets_its_defined_answer_and_stores_nothing_it_refuses(ws, alice, lobby, text, code):
    client = await ws(user=alice)
    await client.send_to(text_data=text)
    reply = await client.receive_json_from(timeout=5)
    if code is None:
        assert reply["type"] in ("ack", "subscribed", "history", "pong"), reply
    else:
        assert reply["type"] == "error", reply
        assert reply["code"] == code, reply
        assert reply["detail"].endswith("."), reply
        # The reply names nothing that could not be written back: it is valid, strict JSON.
        frames.Error.model_validate(reply)
    await client.send_json_to({"type": "ping", "ref": "still-there"})
    assert await client.receive_json_from(timeout=5) == {"type": "pong", "ref": "still-there"}

    rows = await sync_to_async(stored)()
    if code is None and reply["type"] == "ack":
        assert rows == [(json.loads(text)["body"], json.loads(text)["client_id"])]
    else:
        assert rows == []


async def test_a_refused_frame_echoes_its_ref_when_the_ref_is_valid(ws, alice, lobby):
    client = await ws(user=alice)
    await client.send_to(text_data=send("x" * (MAX_BODY + 1), ref="too-long"))
    assert (await client.receive_json_from())["ref"] == "too-long"
    await client.send_to(text_data=nested(40)[:-1] + ', "ref": 7}')
    error = await client.receive_json_from()
    assert error["code"] == "invalid"
    assert "more than 32 levels deep" in error["detail"]


async def test_the_deep_frame_is_explained_in_a_sentence(ws, alice):
    client = await ws(user=alice)
    await client.send_to(text_data="[" * (MAX_FRAME - 1))
    assert await client.receive_json_from() == {
        "type": "error",
        "code": "invalid",
        "detail": "The frame nests arrays or objects more than 32 levels deep; send a flat object.",
    }


@pytest.mark.parametrize(("size", "closed"), [(MAX_FRAME, False), (MAX_FRAME + 1, True)])
async def test_a_frame_over_the_byte_limit_closes_1009_and_one_at_it_is_read(ws, alice, lobby, size, closed):
    # The limit counts UTF-8 bytes: a frame of three-byte characters reaches it with a third of the characters.
    prefix = '{"type": "ping", "ref": "r", "pad": "'
    room_left = size - len(prefix.encode()) - len(b'"}')
    text = prefix + "€" * (room_left // 3) + "x" * (room_left % 3) + '"}'
    assert len(text.encode()) == size
    client = await ws(user=alice)
    await client.send_to(text_data=text)
    if closed:
        assert await client.receive_output(timeout=3) == {"type": "websocket.close", "code": 1009}
    else:
        assert await client.receive_json_from() == {"type": "pong", "ref": "r"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[" * (MAX_FRAME - 1), "invalid"),
        ('{"message": ' + "[" * 100 + "]" * 100 + "}", "invalid"),
        (json.dumps({"message": "a\x00b"}), "invalid"),
        (json.dumps({"message": "e" + COMBINING_ACUTE * 31}), "invalid"),
        (json.dumps({"message": "x" * (MAX_BODY + 1)}), "too_large"),
    ],
    ids=["64 KiB of [", "nested 101 deep", "NUL", "31 combining marks", "body over the limit"],
)
async def test_the_tutorial_endpoint_answers_bad_input_the_same_way(ws, alice, lobby, text, code):
    tutorial = await ws("/ws/chat/lobby/", user=alice)
    await tutorial.send_to(text_data=text)
    assert (await tutorial.receive_json_from())["code"] == code
    await tutorial.send_json_to({"message": "still here"})
    assert await tutorial.receive_json_from() == {"message": "still here"}
    assert [body for body, _ in await sync_to_async(stored)()] == ["still here"]


def test_bidi_controls_and_bounded_combining_marks_are_stored_exactly():
    for body in ("\u202eevil.exe", "\u2067\u05e9\u05dc\u05d5\u05dd\u2069 and hello", "a" + COMBINING_ACUTE * 30):
        assert limits.validate_body(body) == body


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("{}", False),
        ("[" * 32 + "]" * 32, False),
        ("[" * 33 + "]" * 33, True),
        ('["' + "[" * 100 + '"]', False),
        ('["\\"' + "[" * 100 + '"]', False),
        ('["\\\\"' + ", [" * 40 + "]" * 40 + "]", True),
        ("[]" * 20_000, False),
        ('{"a": {"b": ' * 20 + "1" + "}}" * 20, True),
        ('"' + "[" * 100, False),  # an unterminated string: not deep, just not JSON (the parser says so)
    ],
)
def test_nesting_depth_is_counted_outside_strings(text, deep):
    assert limits.json_too_deep(text) is deep
