"""Protocol v1 and the tutorial protocol through ``WebsocketCommunicator`` on the real ASGI stack."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_subscribe_send_and_receive(ws, make_user, make_room):
    from asgiref.sync import sync_to_async

    alice = await sync_to_async(make_user)("alice")
    await sync_to_async(make_room)("lobby")
    a = await ws(user=alice)
    await a.send_json_to({"type": "subscribe", "room": "lobby", "ref": 1})
    assert await a.receive_json_from() == {
        "type": "subscribed",
        "ref": 1,
        "room": "lobby",
        "head": 0,
        "truncated": False,
    }
    await a.send_json_to({"type": "send", "room": "lobby", "body": "hello", "client_id": "c-1"})
    frames = [await a.receive_json_from(), await a.receive_json_from()]
    assert {f["type"] for f in frames} == {"ack", "message"}
