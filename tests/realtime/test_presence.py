"""Presence and typing on ``/ws/``: ``presence`` after ``subscribed``, ``presence_diff`` as people
come and go (a person with several tabs is one person), ``typing`` to the others, throttled."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from parley.events.publish import publish_room_frames
from parley.realtime.hub import presence_diff

pytestmark = pytest.mark.django_db(transaction=True)

ALICE = "alice"


def person(user):
    return {"id": user.pk, "name": user.username, "guest": False}


async def subscribe(client, room="lobby"):
    await client.send_json_to({"type": "subscribe", "room": room})
    assert (await client.receive_json_from(timeout=3))["type"] == "subscribed"
    return await client.receive_json_from(timeout=3)


async def test_subscribed_is_followed_by_who_is_here(ws, alice, bob, lobby):
    bobs = await ws(user=bob, ambient=True)
    assert await subscribe(bobs) == {"type": "presence", "room": "lobby", "online": [person(bob)]}
    alices = await ws(user=alice, ambient=True)
    presence = await subscribe(alices)
    assert presence == {"type": "presence", "room": "lobby", "online": [person(alice), person(bob)]}


async def test_people_arrive_once_and_leave_with_their_last_socket(ws, alice, bob, lobby):
    alices = await ws(user=alice, ambient=True)
    await subscribe(alices)
    first_tab = await ws(user=bob, ambient=True)
    await subscribe(first_tab)
    joined = {"type": "presence_diff", "room": "lobby", "joined": [person(bob)], "left": []}
    assert await alices.receive_json_from(timeout=3) == joined
    second_tab = await ws(user=bob, ambient=True)
    await subscribe(second_tab)
    await second_tab.send_json_to({"type": "unsubscribe", "room": "lobby"})
    assert (await second_tab.receive_json_from(timeout=3))["type"] == "unsubscribed"
    assert await alices.receive_nothing(timeout=0.3)  # bob is still here in his first tab
    await first_tab.disconnect()
    left = {"type": "presence_diff", "room": "lobby", "joined": [], "left": [person(bob)]}
    assert await alices.receive_json_from(timeout=3) == left


async def test_who_leaves_several_rooms_at_once_is_announced_in_each(ws, alice, bob, lobby, make_room):
    await sync_to_async(make_room)("annex")
    alices = await ws(user=alice, ambient=True)
    bobs = await ws(user=bob, ambient=True)
    for room in ("lobby", "annex"):
        await subscribe(alices, room)
        await subscribe(bobs, room)
        assert (await alices.receive_json_from(timeout=3))["joined"] == [person(bob)]
    await bobs.disconnect()
    diffs = [await alices.receive_json_from(timeout=3) for _ in range(2)]
    assert sorted(diffs, key=lambda diff: diff["room"]) == [
        {"type": "presence_diff", "room": room, "joined": [], "left": [person(bob)]} for room in ("annex", "lobby")
    ]


async def test_frames_for_several_rooms_go_as_one_event_to_each_rooms_sockets(ws, alice, lobby, make_room):
    annex = await sync_to_async(make_room)("annex")
    alices = await ws(user=alice, ambient=True)
    await subscribe(alices, "lobby")
    outsider = await ws(user=alice, ambient=True)
    await subscribe(outsider, "annex")
    guest = {"id": None, "name": "guest-1", "guest": True}
    lobbys, annexs = presence_diff("lobby", left=[guest]), presence_diff("annex", joined=[guest])
    publish_room_frames({lobby.pk: lobbys, annex.pk: annexs})
    assert await alices.receive_json_from(timeout=3) == lobbys
    assert await outsider.receive_json_from(timeout=3) == annexs
    assert await alices.receive_nothing(timeout=0.3)  # the annex's frame is not for lobby's sockets


async def test_guests_are_people_too(ws, alice, lobby):
    alices = await ws(user=alice, ambient=True)
    await subscribe(alices)
    guest = await ws(name="zed", ambient=True)
    presence = await subscribe(guest)
    assert {"id": None, "name": "zed", "guest": True} in presence["online"]
    diff = await alices.receive_json_from(timeout=3)
    assert diff["joined"] == [{"id": None, "name": "zed", "guest": True}]


async def test_typing_reaches_the_others_once_per_interval(ws, alice, bob, lobby):
    alices, other_tab, bobs = [await ws(user=u, ambient=True) for u in (alice, alice, bob)]
    for client in (alices, other_tab, bobs):
        await subscribe(client)
    for client in (alices, other_tab):
        while not await client.receive_nothing(timeout=0.2):
            await client.receive_json_from()  # the arrivals of the others
    while not await bobs.receive_nothing(timeout=0.2):
        await bobs.receive_json_from()
    await alices.send_json_to({"type": "typing", "room": "lobby"})
    await alices.send_json_to({"type": "typing", "room": "lobby"})  # within 2 s: dropped
    assert await bobs.receive_json_from(timeout=3) == {"type": "typing", "room": "lobby", "user": person(alice)}
    assert await bobs.receive_nothing(timeout=0.3)
    assert await other_tab.receive_nothing(timeout=0.3)  # alice's own tabs are not told
    assert await alices.receive_nothing(timeout=0.1)  # no reply to typing


async def test_typing_in_a_room_not_followed_is_refused(ws, alice, lobby):
    client = await ws(user=alice)
    await client.send_json_to({"type": "typing", "room": "lobby", "ref": 4})
    error = await client.receive_json_from(timeout=3)
    assert (error["code"], error["ref"]) == ("invalid", 4)
    assert "Subscribe" in error["detail"]
