"""Protocol v1 and the tutorial protocol through ``WebsocketCommunicator`` on the real ASGI stack."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from parley.accounts.identity import user_identity
from parley.accounts.services import token_issue, token_revoke
from parley.rooms.models import Message
from parley.rooms.services import message_post

pytestmark = pytest.mark.django_db(transaction=True)


async def frames_until(communicator, frame_type, limit=50):
    """Frames up to and including the first of ``frame_type``."""
    frames = []
    for _ in range(limit):
        frame = await communicator.receive_json_from(timeout=3)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames
    raise AssertionError(f"no {frame_type} frame in {frames}")


async def post(room, identity, count, start=1):
    for i in range(start, start + count):
        await sync_to_async(message_post)(room=room, sender=identity, body=f"m{i}", client_id=f"c{i}")


async def test_subscribe_answers_with_the_head(ws, alice, lobby):
    client = await ws(user=alice)
    await client.send_json_to({"type": "subscribe", "room": "lobby", "ref": 1})
    assert await client.receive_json_from() == {
        "type": "subscribed",
        "ref": 1,
        "room": "lobby",
        "head": 0,
        "truncated": False,
    }


async def test_send_is_acknowledged_and_delivered_to_every_subscriber(ws, alice, lobby):
    sender, reader = await ws(user=alice), await ws(name="zed")
    for client in (sender, reader):
        await client.send_json_to({"type": "subscribe", "room": "lobby"})
        await client.receive_json_from()
    await sender.send_json_to({"type": "send", "room": "lobby", "body": "hello", "client_id": "c-1", "ref": "s1"})
    own = {frame["type"]: frame for frame in [await sender.receive_json_from(), await sender.receive_json_from()]}
    message = await reader.receive_json_from()
    stored = await sync_to_async(Message.objects.get)(client_id="c-1")
    assert own["ack"] == {"type": "ack", "ref": "s1", "room": "lobby", "client_id": "c-1", "seq": 1, "id": stored.pk}
    assert message == own["message"]
    assert message["author"] == {"id": alice.pk, "name": "alice", "guest": False}
    assert (message["seq"], message["body"], message["client_id"]) == (1, "hello", "c-1")


async def test_a_retried_send_gets_the_first_ack_and_stores_nothing(ws, alice, lobby):
    client = await ws(user=alice)
    await client.send_json_to({"type": "send", "room": "lobby", "body": "hello", "client_id": "same"})
    first = await client.receive_json_from()
    await client.send_json_to({"type": "send", "room": "lobby", "body": "hello", "client_id": "same"})
    assert await client.receive_json_from() == first
    assert await sync_to_async(Message.objects.count)() == 1


async def test_subscribe_since_replays_then_goes_live_without_gaps_or_doubles(ws, alice, lobby):
    identity = user_identity(alice)
    await post(lobby, identity, 5)
    client = await ws(user=alice)
    await client.send_json_to({"type": "subscribe", "room": "lobby", "since": 2})
    # Messages stored while the replay is read must come exactly once, after it.
    writer = asyncio.create_task(post(lobby, identity, 5, start=6))
    frames = await frames_until(client, "subscribed")
    await writer
    while not await client.receive_nothing(timeout=0.5):
        frames.append(await client.receive_json_from())
    seqs = [frame["seq"] for frame in frames if frame["type"] == "message"]
    assert seqs == list(range(3, 11))
    subscribed = next(frame for frame in frames if frame["type"] == "subscribed")
    assert frames.index(subscribed) >= seqs.index(subscribed["head"]) + 1


async def test_replay_beyond_the_limit_is_truncated_to_the_newest(ws, alice, lobby, settings):
    settings.PARLEY = {**settings.PARLEY, "REPLAY_LIMIT": 3}
    await post(lobby, user_identity(alice), 8)
    client = await ws(user=alice)
    await client.send_json_to({"type": "subscribe", "room": "lobby", "since": 0})
    frames = await frames_until(client, "subscribed")
    assert [frame["seq"] for frame in frames[:-1]] == [6, 7, 8]
    assert frames[-1] == {"type": "subscribed", "room": "lobby", "head": 8, "truncated": True}


async def test_unsubscribe_stops_delivery(ws, alice, lobby):
    client = await ws(user=alice)
    await client.send_json_to({"type": "subscribe", "room": "lobby"})
    await client.receive_json_from()
    await client.send_json_to({"type": "unsubscribe", "room": "lobby", "ref": "u"})
    assert await client.receive_json_from() == {"type": "unsubscribed", "ref": "u", "room": "lobby"}
    await post(lobby, user_identity(alice), 1)
    assert await client.receive_nothing(timeout=0.5)


async def test_history_pages_backwards(ws, alice, lobby):
    await post(lobby, user_identity(alice), 7)
    client = await ws(user=alice)
    await client.send_json_to({"type": "history", "room": "lobby", "limit": 3, "ref": 9})
    page = await client.receive_json_from()
    assert (page["type"], page["ref"], page["room"]) == ("history", 9, "lobby")
    assert [m["seq"] for m in page["messages"]] == [5, 6, 7]
    await client.send_json_to({"type": "history", "room": "lobby", "before": 5, "limit": 3})
    assert [m["seq"] for m in (await client.receive_json_from())["messages"]] == [2, 3, 4]


async def test_ping(ws, alice):
    client = await ws(user=alice)
    await client.send_json_to({"type": "ping", "ref": "p"})
    assert await client.receive_json_from() == {"type": "pong", "ref": "p"}


BAD_FRAMES = [
    ("not json", "invalid", None),
    ("[1, 2]", "invalid", None),
    ('{"ref": "r"}', "invalid", "r"),
    ('{"type": "launch", "ref": 5}', "invalid", 5),
    ('{"type": "send", "room": "lobby", "client_id": "c", "ref": "r"}', "invalid", "r"),
    ('{"type": "send", "room": "lobby", "body": "   ", "client_id": "c"}', "invalid", None),
    ('{"type": "send", "room": "lobby", "body": "a\\u0000b", "client_id": "c"}', "invalid", None),
    ('{"type": "send", "room": "lobby", "body": "\\ud800", "client_id": "c"}', "invalid", None),
    ('{"type": "send", "room": "lobby", "body": 5, "client_id": "c"}', "invalid", None),
    ('{"type": "subscribe", "room": "no spaces"}', "invalid", None),
    ('{"type": "subscribe", "room": "lobby", "since": "3"}', "invalid", None),
    ('{"type": "subscribe", "room": "lobby", "since": -1}', "invalid", None),
    ('{"type": "history", "room": "lobby", "limit": 101}', "invalid", None),
    ('{"type": "ping", "ref": {"nested": true}}', "invalid", None),
    ('{"type": "subscribe", "room": "nowhere", "ref": "n"}', "not_found", "n"),
    ('{"type": "send", "room": "nowhere", "body": "x", "client_id": "c"}', "not_found", None),
]


@pytest.mark.parametrize(("text", "code", "ref"), BAD_FRAMES)
async def test_bad_frames_get_an_error_and_the_connection_stays_open(ws, alice, lobby, text, code, ref):
    client = await ws(user=alice)
    await client.send_to(text_data=text)
    error = await client.receive_json_from()
    assert error["type"] == "error"
    assert error["code"] == code
    assert error.get("ref") == ref
    assert error["detail"].endswith(".")
    assert len(error["detail"]) > 20
    await client.send_json_to({"type": "ping"})
    assert await client.receive_json_from() == {"type": "pong"}
    assert await sync_to_async(Message.objects.count)() == 0


async def test_a_body_over_the_limit_is_too_large(ws, alice, lobby, settings):
    settings.PARLEY = {**settings.PARLEY, "MAX_BODY": 10}
    client = await ws(user=alice)
    await client.send_json_to({"type": "send", "room": "lobby", "body": "x" * 11, "client_id": "c"})
    error = await client.receive_json_from()
    assert (error["code"], error["detail"]) == ("too_large", "Field 'body' is 11 characters long; the limit is 10.")


async def test_binary_frames_are_refused_in_band(ws, alice):
    client = await ws(user=alice)
    await client.send_to(bytes_data=b"\x00\x01")
    assert (await client.receive_json_from())["code"] == "invalid"
    await client.send_json_to({"type": "ping"})
    assert await client.receive_json_from() == {"type": "pong"}


async def test_a_frame_over_the_limit_closes_with_1009(ws, alice, lobby):
    client = await ws(user=alice)
    await client.send_to(text_data='{"type":"ping","ref":"' + "x" * 70_000 + '"}')
    assert await client.receive_output(timeout=3) == {"type": "websocket.close", "code": 1009}


async def test_a_private_room_is_not_found_for_non_members(ws, make_user, make_room):
    owner, stranger = await sync_to_async(make_user)("owner"), await sync_to_async(make_user)("stranger")
    await sync_to_async(make_room)("secret", is_private=True, members=[owner])
    client = await ws(user=stranger)
    await client.send_json_to({"type": "subscribe", "room": "secret"})
    hidden = await client.receive_json_from()
    await client.send_json_to({"type": "subscribe", "room": "nowhere"})
    missing = await client.receive_json_from()
    assert hidden["code"] == missing["code"] == "not_found"
    member = await ws(user=owner)
    await member.send_json_to({"type": "subscribe", "room": "secret"})
    assert (await member.receive_json_from())["type"] == "subscribed"


async def test_guests_are_refused_where_guests_are_not_allowed(ws, make_room):
    await sync_to_async(make_room)("general")
    guest = await ws(name="zed")
    await guest.send_json_to({"type": "subscribe", "room": "general"})
    assert (await guest.receive_json_from())["code"] == "forbidden"


async def test_the_author_comes_from_the_identity_never_the_frame(ws, alice, lobby):
    guest = await ws(name="zed")
    await guest.send_json_to(
        {"type": "send", "room": "lobby", "body": "hi", "client_id": "c", "author": {"id": alice.pk, "name": "alice"}}
    )
    await guest.receive_json_from()
    stored = await sync_to_async(Message.objects.get)()
    assert (stored.author_id, stored.guest_name) == (None, "zed")


async def test_a_bearer_token_identifies_the_user(ws, alice, lobby):
    issued = await sync_to_async(token_issue)(user=alice)
    client = await ws(token=issued.secret, origin=None)
    await client.send_json_to({"type": "send", "room": "lobby", "body": "hi", "client_id": "c"})
    assert (await client.receive_json_from())["type"] == "ack"
    assert (await sync_to_async(Message.objects.get)()).author_id == alice.pk


async def test_an_unknown_or_revoked_token_is_closed_4401(ws, alice):
    issued = await sync_to_async(token_issue)(user=alice)
    await sync_to_async(token_revoke)(token=issued.token)
    for secret in (issued.secret, "parley_not-a-real-token"):
        client = await ws(token=secret, origin=None)
        error = await client.receive_json_from()
        assert error["type"] == "error"
        assert "unknown or revoked" in error["detail"]
        assert await client.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}


async def test_without_guests_an_anonymous_socket_is_closed_4401(ws, settings):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": False}
    client = await ws()
    assert (await client.receive_json_from())["type"] == "error"
    assert await client.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}


async def test_a_foreign_origin_is_refused_at_the_handshake(ws, alice):
    await ws(user=alice, origin=b"http://evil.example", expect_accept=False)
    await ws(user=alice, origin=b"null", expect_accept=False)


async def test_without_an_origin_the_session_cookie_is_ignored(ws, alice, lobby):
    client = await ws(user=alice, origin=None)
    await client.send_json_to({"type": "send", "room": "lobby", "body": "hi", "client_id": "c"})
    await client.receive_json_from()
    stored = await sync_to_async(Message.objects.get)()
    assert stored.author_id is None
    assert stored.guest_name.startswith("guest-")


async def test_unknown_paths_are_refused(ws, alice):
    await ws("/ws/nope/", user=alice, expect_accept=False)


# --- the article's protocol ----------------------------------------------------------------


async def test_tutorial_messages_are_stored_and_reach_v1_subscribers_with_their_seq(ws, alice, lobby):
    v1 = await ws(user=alice)
    await v1.send_json_to({"type": "subscribe", "room": "lobby"})
    await v1.receive_json_from()
    tutorial = await ws("/ws/chat/lobby/", name="zed")
    await tutorial.send_json_to({"message": "from the article"})
    assert await tutorial.receive_json_from() == {"message": "from the article"}
    message = await v1.receive_json_from()
    assert (message["type"], message["seq"], message["body"]) == ("message", 1, "from the article")
    assert message["author"]["name"] == "zed"
    assert await sync_to_async(Message.objects.filter(body="from the article").count)() == 1


async def test_v1_messages_reach_tutorial_sockets(ws, alice, lobby):
    tutorial = await ws("/ws/chat/lobby/", user=alice)
    v1 = await ws(user=alice)
    await v1.send_json_to({"type": "send", "room": "lobby", "body": "<b>hi</b>", "client_id": "c"})
    assert await tutorial.receive_json_from() == {"message": "<b>hi</b>"}


async def test_tutorial_bad_input_gets_an_error_and_stores_nothing(ws, lobby):
    tutorial = await ws("/ws/chat/lobby/", name="zed")
    for text in ("nope", '{"message": 5}', '{"text": "hi"}', '{"message": "  "}'):
        await tutorial.send_to(text_data=text)
        assert (await tutorial.receive_json_from())["code"] == "invalid"
    assert await sync_to_async(Message.objects.count)() == 0


@pytest.mark.parametrize(
    ("slug", "private", "guests", "code"),
    [("nowhere", None, None, 4404), ("secret", True, False, 4404), ("general", False, False, 4403)],
)
async def test_tutorial_rooms_that_cannot_be_read_close_the_socket(ws, make_room, slug, private, guests, code):
    if private is not None:
        await sync_to_async(make_room)(slug, is_private=private, guests_allowed=guests)
    tutorial = await ws(f"/ws/chat/{slug}/", name="zed")
    assert await tutorial.receive_output(timeout=3) == {"type": "websocket.close", "code": code}
