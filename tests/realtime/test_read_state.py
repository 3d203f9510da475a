"""The ``read`` frame: the asker gets ``unread`` with its ref, and every socket of the user the same;
and a direct message gives its recipient's sockets their new ``unread`` at once."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from parley.accounts.identity import user_identity
from parley.direct.services import direct_conversation_open
from parley.readstate.models import ReadMarker
from parley.rooms.services import message_post

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def post(room, user, count):
    for number in range(count):
        message_post(room=room, sender=user_identity(user), body=f"m{number}", client_id=f"c{number}")


@sync_to_async
def conversation_room(user, username):
    return direct_conversation_open(user=user, username=username).conversation.room


@sync_to_async
def marker(user, room):
    return ReadMarker.objects.filter(user=user, room=room).values_list("last_read", flat=True).first()


async def test_read_answers_the_asker_and_reaches_every_socket_of_the_user(ws, alice, bob, lobby):
    await post(lobby, bob, 4)
    asker, other_tab, bobs = await ws(user=alice), await ws(user=alice), await ws(user=bob)
    await asker.send_json_to({"type": "read", "room": "lobby", "seq": 3, "ref": 7})
    reply = {"type": "unread", "ref": 7, "room": "lobby", "count": 1, "last_read": 3}
    everywhere = {"type": "unread", "room": "lobby", "count": 1, "last_read": 3}
    # The asker gets both its reply and the copy every socket of the user gets, in either order.
    got = [await asker.receive_json_from(timeout=3), await asker.receive_json_from(timeout=3)]
    assert sorted(got, key=lambda frame: "ref" in frame) == [everywhere, reply]
    assert await other_tab.receive_json_from(timeout=3) == everywhere
    assert await bobs.receive_nothing(timeout=0.3)
    assert await marker(alice, lobby) == 3


async def test_reading_behind_the_marker_answers_but_tells_no_other_socket(ws, alice, bob, lobby):
    await post(lobby, bob, 4)
    asker, other_tab = await ws(user=alice), await ws(user=alice)
    await asker.send_json_to({"type": "read", "room": "lobby", "seq": 4})
    await asker.receive_json_from(timeout=3)
    await asker.receive_json_from(timeout=3)
    assert (await other_tab.receive_json_from(timeout=3))["last_read"] == 4

    await asker.send_json_to({"type": "read", "room": "lobby", "seq": 2, "ref": "late"})
    assert await asker.receive_json_from(timeout=3) == {
        "type": "unread",
        "ref": "late",
        "room": "lobby",
        "count": 0,
        "last_read": 4,
    }
    assert await asker.receive_nothing(timeout=0.3)
    assert await other_tab.receive_nothing(timeout=0.3)
    assert await marker(alice, lobby) == 4


async def test_a_seq_past_the_head_is_clamped(ws, alice, bob, lobby):
    await post(lobby, bob, 2)
    client = await ws(user=alice)
    await client.send_json_to({"type": "read", "room": "lobby", "seq": 2**63 - 1, "ref": 1})
    frames = [await client.receive_json_from(timeout=3) for _ in range(2)]
    assert {frame["last_read"] for frame in frames} == {2}


async def test_guests_have_no_read_markers(ws, lobby):
    guest = await ws(name="zed")
    await guest.send_json_to({"type": "read", "room": "lobby", "seq": 1, "ref": 1})
    assert await guest.receive_json_from(timeout=3) == {
        "type": "error",
        "ref": 1,
        "code": "forbidden",
        "detail": "Guests have no read markers; sign in to keep your place in rooms.",
    }


async def test_a_private_room_you_are_not_in_is_not_found(ws, alice, bob, make_room):
    secret = await sync_to_async(make_room)("secret", is_private=True, members=[bob])
    await post(secret, bob, 1)
    client = await ws(user=alice)
    await client.send_json_to({"type": "read", "room": "secret", "seq": 1, "ref": 1})
    error = await client.receive_json_from(timeout=3)
    assert (error["type"], error["code"], error["ref"]) == ("error", "not_found", 1)
    assert await marker(alice, secret) is None


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ({"type": "read", "room": "lobby"}, "Field 'seq' is required."),
        ({"type": "read", "room": "lobby", "seq": -1}, "Field 'seq' input should be greater than or equal to 0."),
        (
            {"type": "read", "room": "lobby", "seq": 2**63},
            "Field 'seq' input should be less than or equal to 9223372036854775807.",
        ),
        ({"type": "read", "room": "lobby", "seq": "3"}, "Field 'seq' input should be a valid integer."),
    ],
)
async def test_bad_read_frames_are_invalid(ws, alice, lobby, frame, detail):
    client = await ws(user=alice)
    await client.send_json_to(frame)
    assert await client.receive_json_from(timeout=3) == {"type": "error", "code": "invalid", "detail": detail}


async def test_a_direct_message_gives_the_recipients_sockets_their_unread_count(ws, alice, bob, lobby):
    room = await conversation_room(bob, "alice")
    alices_tab, alices_phone, bobs = await ws(user=alice), await ws(user=alice), await ws(user=bob)
    await post(room, bob, 2)
    # No subscription needed: every socket of alice hears of each message, with the count so far.
    for socket in (alices_tab, alices_phone):
        for count in (1, 2):
            frame = await socket.receive_json_from(timeout=3)
            assert frame == {"type": "unread", "room": room.slug, "count": count, "last_read": 0}
    assert await bobs.receive_nothing(timeout=0.3)  # the author has read what he wrote

    # alice answers: bob's sockets hear of it; an ordinary room's message tells nobody.
    await alices_tab.send_json_to({"type": "read", "room": room.slug, "seq": 2})
    await post(room, alice, 1)
    assert await bobs.receive_json_from(timeout=3) == {"type": "unread", "room": room.slug, "count": 1, "last_read": 0}
    await post(lobby, bob, 1)
    assert await alices_phone.receive_json_from(timeout=3) == {
        "type": "unread",
        "room": room.slug,
        "count": 0,
        "last_read": 2,
    }  # alice's own read, on every socket
    assert await alices_phone.receive_nothing(timeout=0.3)
    assert await bobs.receive_nothing(timeout=0.3)
