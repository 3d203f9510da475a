"""Frames that are not stored messages: to a room's sockets (skipping the sender, personalised per
user), to all of a user's sockets, and a room taken away from a user's sockets."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from parley.events.publish import (
    publish_room_frame,
    publish_room_frame_on_commit,
    publish_room_kick_on_commit,
    publish_user_frame_on_commit,
)
from parley.rooms.services import room_delete

pytestmark = pytest.mark.django_db(transaction=True)


def edited(body: str) -> dict:
    """A ``message_updated`` frame: a frame about a room that is not a stored message."""
    return {"type": "message_updated", "room": "lobby", "seq": 1, "body": body, "edited_at": None, "deleted": False}


async def subscribed(ws, room, **who):
    client = await ws(**who)
    await client.send_json_to({"type": "subscribe", "room": room.slug})
    assert (await client.receive_json_from(timeout=3))["type"] == "subscribed"
    return client


async def test_a_room_frame_reaches_every_subscriber_but_the_excluded_person(ws, alice, bob, lobby):
    alices = [await subscribed(ws, lobby, user=alice) for _ in range(2)]
    bobs = await subscribed(ws, lobby, user=bob)
    guest = await subscribed(ws, lobby, name="zed")
    publish_room_frame(lobby.pk, edited("hi"), exclude=f"user:{alice.pk}")
    for client in (bobs, guest):
        assert await client.receive_json_from(timeout=3) == edited("hi")
    for client in alices:
        assert await client.receive_nothing(timeout=0.3)


async def test_personal_fields_replace_the_frames_for_that_user_only(ws, alice, bob, lobby):
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)

    def react() -> None:
        with transaction.atomic():
            frame = {"type": "reactions", "room": "lobby", "seq": 1, "counts": {"👍": 1}, "mine": []}
            publish_room_frame_on_commit(lobby.pk, frame, personal={str(alice.pk): {"mine": ["👍"]}})

    await sync_to_async(react)()
    assert (await alices.receive_json_from(timeout=3))["mine"] == ["👍"]
    assert (await bobs.receive_json_from(timeout=3))["mine"] == []


async def test_a_user_frame_reaches_every_socket_of_that_user(ws, alice, bob):
    tabs, bobs = [await ws(user=alice) for _ in range(2)], await ws(user=bob)

    def mark() -> None:
        with transaction.atomic():
            publish_user_frame_on_commit(alice.pk, {"type": "unread", "room": "lobby", "count": 0, "last_read": 3})

    await sync_to_async(mark)()
    for tab in tabs:
        assert await tab.receive_json_from(timeout=3) == {"type": "unread", "room": "lobby", "count": 0, "last_read": 3}
    assert await bobs.receive_nothing(timeout=0.3)


async def test_a_kicked_user_loses_the_room_on_every_socket_and_others_keep_it(ws, alice, bob, lobby):
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)
    tutorial = await ws(path="/ws/chat/lobby/", user=alice)

    def ban() -> None:
        with transaction.atomic():
            publish_room_kick_on_commit(lobby.pk, alice.pk, "You were banned from #lobby.")

    await sync_to_async(ban)()
    error = await alices.receive_json_from(timeout=3)
    assert (error["type"], error["code"], error["detail"]) == ("error", "forbidden", "You were banned from #lobby.")
    assert await alices.receive_json_from(timeout=3) == {"type": "unsubscribed", "room": "lobby"}
    assert await tutorial.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
    # Bob still follows the room; alice's socket stays open but no longer gets its frames.
    publish_room_frame(lobby.pk, edited("carol"))
    assert (await bobs.receive_json_from(timeout=3))["body"] == "carol"
    assert await alices.receive_nothing(timeout=0.3)
    await alices.send_json_to({"type": "ping"})
    assert await alices.receive_json_from(timeout=3) == {"type": "pong"}


async def test_a_deleted_room_is_taken_from_every_socket_staff_and_guests_included(ws, alice, make_user, lobby):
    staff = await sync_to_async(make_user)("boss", staff=True)
    followers = [await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=staff)]
    followers.append(await subscribed(ws, lobby, name="zed"))
    await sync_to_async(room_delete)(room=lobby)
    for client in followers:
        error = await client.receive_json_from(timeout=3)
        assert (error["type"], error["code"], error["detail"]) == ("error", "forbidden", "#lobby was deleted.")
        assert await client.receive_json_from(timeout=3) == {"type": "unsubscribed", "room": "lobby"}
        await client.send_json_to({"type": "subscribe", "room": "lobby", "ref": "again"})
        assert (await client.receive_json_from(timeout=3))["code"] == "not_found"
