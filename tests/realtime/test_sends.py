"""Plain sends from many sockets are committed in groups, and each is answered as if alone."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from parley.rooms import group_commit
from parley.rooms.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


async def test_sends_that_arrive_together_are_committed_together(ws, make_user, make_room, monkeypatch):
    await sync_to_async(make_room)("lobby")
    users = [await sync_to_async(make_user)(f"user{i}") for i in range(8)]
    groups = []
    send_many = group_commit.message_send_many

    def counted(*, sends):
        groups.append(len(sends))
        return send_many(sends=sends)

    monkeypatch.setattr("parley.realtime.sends.message_send_many", counted)
    clients = [await ws(user=user) for user in users]
    for round_ in range(3):
        for i, client in enumerate(clients):
            frame = {"type": "send", "room": "lobby", "body": f"{i}/{round_}", "client_id": f"c{i}-{round_}"}
            await client.send_json_to(frame)
        acks = [await client.receive_json_from(timeout=5) for client in clients]
        assert all(ack["type"] == "ack" for ack in acks)
    stored = await sync_to_async(list)(Message.objects.order_by("seq").values_list("seq", "client_id"))
    assert [seq for seq, _ in stored] == list(range(1, 25))
    assert sum(groups) == 24
    assert len(groups) < 24  # the sends that waited for a commit went in the next one


async def test_a_refused_send_does_not_fail_the_others_committed_with_it(ws, alice, make_room):
    await sync_to_async(make_room)("lobby", guests_allowed=True)
    await sync_to_async(make_room)("secret", is_private=True)
    client, other = await ws(user=alice), await ws(name="zed")
    await asyncio.gather(
        client.send_json_to({"type": "send", "room": "secret", "body": "no", "client_id": "c1", "ref": 1}),
        other.send_json_to({"type": "send", "room": "lobby", "body": "hi", "client_id": "c2", "ref": 2}),
    )
    refused, acked = await client.receive_json_from(timeout=5), await other.receive_json_from(timeout=5)
    assert (refused["type"], refused["code"], refused["ref"]) == ("error", "not_found", 1)
    assert (acked["type"], acked["seq"], acked["ref"]) == ("ack", 1, 2)
