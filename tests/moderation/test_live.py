"""Bans and mutes on live sockets: a banned user's sockets lose the room at once and cannot take it
back; a muted user keeps receiving the room's messages but cannot send."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from parley.moderation.services import member_ban, member_mute, room_settings_update
from parley.rooms.services import room_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def owner(make_user):
    return await sync_to_async(make_user)("owner")


@pytest.fixture
async def bob(make_user):
    return await sync_to_async(make_user)("bob")


@pytest.fixture
async def town(owner):
    return await sync_to_async(room_create)(slug="town", creator=owner)


async def subscribed(ws, room, user):
    client = await ws(user=user)
    await client.send_json_to({"type": "subscribe", "room": room.slug, "ref": "s"})
    assert (await client.receive_json_from(timeout=3))["type"] == "subscribed"
    return client


async def next_of(client, *types):
    """The next frame of one of ``types``, passing over others (presence, say, which other features send)."""
    while True:
        frame = await client.receive_json_from(timeout=3)
        if frame["type"] in types:
            return frame


async def test_a_banned_user_loses_the_room_at_once_and_cannot_come_back(ws, owner, bob, town):
    bobs = await subscribed(ws, town, bob)
    owners = await subscribed(ws, town, owner)
    await sync_to_async(member_ban)(room=town, actor=owner, username="bob")
    error = await next_of(bobs, "error")
    assert (error["type"], error["code"], error["detail"]) == ("error", "forbidden", "You were banned from #town.")
    assert await next_of(bobs, "unsubscribed") == {"type": "unsubscribed", "room": "town"}

    await bobs.send_json_to({"type": "subscribe", "room": "town", "ref": "again"})
    refused = await next_of(bobs, "error", "subscribed")
    assert (refused["ref"], refused["code"]) == ("again", "forbidden")
    assert refused["detail"] == "You are banned from #town; you can no longer read or post there."
    await bobs.send_json_to({"type": "send", "room": "town", "body": "let me in", "client_id": "c1", "ref": "send"})
    refused = await next_of(bobs, "error", "ack")
    assert (refused["ref"], refused["code"]) == ("send", "forbidden")

    # The room goes on without him.
    await owners.send_json_to({"type": "send", "room": "town", "body": "peace", "client_id": "o1"})
    frames = [await next_of(owners, "ack", "message") for _ in range(2)]
    assert {frame["type"] for frame in frames} == {"ack", "message"}
    assert await bobs.receive_nothing(timeout=0.3)  # nothing at all: he follows the room no more


async def test_a_muted_user_still_receives_but_cannot_send(ws, owner, bob, town):
    bobs = await subscribed(ws, town, bob)
    owners = await subscribed(ws, town, owner)
    await sync_to_async(member_mute)(room=town, actor=owner, username="bob", seconds=600)
    await bobs.send_json_to({"type": "send", "room": "town", "body": "hello?", "client_id": "b1", "ref": "b1"})
    refused = await next_of(bobs, "error", "ack")
    assert (refused["type"], refused["ref"], refused["code"]) == ("error", "b1", "forbidden")
    assert refused["detail"].startswith("You are muted in #town until ")

    await owners.send_json_to({"type": "send", "room": "town", "body": "quiet please", "client_id": "o1"})
    message = await next_of(bobs, "message")
    assert (message["type"], message["body"]) == ("message", "quiet please")


async def test_a_room_made_private_is_taken_from_everyone_but_its_members(ws, owner, bob, town):
    await sync_to_async(room_settings_update)(room=town, actor=owner, title="", is_private=False, guests_allowed=True)
    bobs = await subscribed(ws, town, bob)
    guest = await ws(name="zed")
    await guest.send_json_to({"type": "subscribe", "room": "town"})
    assert (await next_of(guest, "subscribed"))["room"] == "town"
    owners = await subscribed(ws, town, owner)

    await sync_to_async(room_settings_update)(room=town, actor=owner, title="", is_private=True, guests_allowed=False)
    for outsider in (bobs, guest):
        error = await next_of(outsider, "error")
        assert (error["code"], error["detail"]) == ("forbidden", "#town is now private, for its members only.")
        assert await next_of(outsider, "unsubscribed") == {"type": "unsubscribed", "room": "town"}

    await owners.send_json_to({"type": "send", "room": "town", "body": "members only now", "client_id": "o1"})
    assert (await next_of(owners, "message"))["body"] == "members only now"
    assert await bobs.receive_nothing(timeout=0.3)
    assert await guest.receive_nothing(timeout=0.1)
