"""The edit, delete and react frames: the reply to the sender, the broadcast to the room, each reactor's
own ``mine``, who may do what, and replays and history pages that show the current state."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from parley.rooms.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)


async def subscribed(ws, room, since=None, **who):
    client = await ws(**who)
    frame = {"type": "subscribe", "room": room.slug}
    if since is not None:
        frame["since"] = since
    await client.send_json_to(frame)
    while (await client.receive_json_from(timeout=3))["type"] != "subscribed":
        pass
    return client


async def sent(client, body, room="lobby"):
    await client.send_json_to({"type": "send", "room": room, "body": body, "client_id": body})
    while (frame := await client.receive_json_from(timeout=3))["type"] != "ack":
        pass
    return frame["seq"]


async def next_of(client, kind):
    """The next frame of this type, skipping others (the live message frames of the test's posts)."""
    while (frame := await client.receive_json_from(timeout=3))["type"] != kind:
        pass
    return frame


async def reply_and_broadcast(client, kind):
    """The reply (with ref) and the room's broadcast (without) to a subscribed sender, in either order:
    the broadcast leaves on commit, and may reach the socket before the reply does."""
    frames = [await next_of(client, kind), await next_of(client, kind)]
    replies = [frame for frame in frames if "ref" in frame]
    assert len(replies) == 1, frames
    return replies[0], next(frame for frame in frames if "ref" not in frame)


async def test_an_edit_is_answered_and_reaches_the_room(ws, alice, bob, lobby):
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)
    seq = await sent(alices, "helo")
    await alices.send_json_to({"type": "edit", "room": "lobby", "seq": seq, "body": "hello", "ref": 5})
    reply, own_broadcast = await reply_and_broadcast(alices, "message_updated")
    assert own_broadcast == {key: value for key, value in reply.items() if key != "ref"}
    assert (reply["ref"], reply["seq"], reply["body"], reply["deleted"]) == (5, seq, "hello", False)
    assert reply["edited_at"].endswith("Z")
    broadcast = await next_of(bobs, "message_updated")
    assert broadcast == {key: value for key, value in reply.items() if key != "ref"}


async def test_a_delete_reaches_the_room_and_a_moderator_may_delete_anyones(ws, make_user, alice, bob, lobby):
    carol = await sync_to_async(make_user)("carol")
    await sync_to_async(Membership.objects.create)(room=lobby, user=carol, role=Membership.Role.MODERATOR)
    alices, bobs, carols = [await subscribed(ws, lobby, user=who) for who in (alice, bob, carol)]
    first, second = await sent(alices, "one"), await sent(alices, "two")
    await bobs.send_json_to({"type": "delete", "room": "lobby", "seq": first, "ref": "b"})
    refused = await next_of(bobs, "error")
    assert (refused["ref"], refused["code"]) == ("b", "forbidden")
    await carols.send_json_to({"type": "delete", "room": "lobby", "seq": second, "ref": "c"})
    assert (await reply_and_broadcast(carols, "message_updated"))[0]["ref"] == "c"
    for client in (alices, bobs):
        update = await next_of(client, "message_updated")
        assert (update["seq"], update["body"], update["deleted"]) == (second, "", True)


async def test_errors_not_yours_no_such_seq_and_rooms_you_cannot_read(ws, make_room, alice, bob, lobby):
    await sync_to_async(make_room)("secret", is_private=True)
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)
    seq = await sent(alices, "mine")
    for client, frame, code in (
        (bobs, {"type": "edit", "room": "lobby", "seq": seq, "body": "x"}, "forbidden"),
        (alices, {"type": "edit", "room": "lobby", "seq": 99, "body": "x"}, "not_found"),
        (alices, {"type": "delete", "room": "secret", "seq": 1}, "not_found"),
        (alices, {"type": "react", "room": "lobby", "seq": 99, "emoji": "👍", "on": True}, "not_found"),
        (alices, {"type": "react", "room": "lobby", "seq": seq, "emoji": "+1", "on": True}, "invalid"),
    ):
        await client.send_json_to({**frame, "ref": 1})
        error = await next_of(client, "error")
        assert (error["code"], error["ref"]) == (code, 1), frame


async def test_reactions_are_answered_and_each_reactor_gets_their_own_mine(ws, alice, bob, lobby):
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)
    guest = await subscribed(ws, lobby, name="zed")
    seq = await sent(alices, "react to me")
    await alices.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "👍", "on": True, "ref": "r1"})
    reply, own_broadcast = await reply_and_broadcast(alices, "reactions")
    assert reply == {"type": "reactions", "ref": "r1", "room": "lobby", "seq": seq, "counts": {"👍": 1}, "mine": ["👍"]}
    assert own_broadcast["mine"] == ["👍"]  # personalised
    assert (await next_of(bobs, "reactions"))["mine"] == []
    assert (await next_of(guest, "reactions"))["mine"] == []
    await bobs.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "🎉", "on": True, "ref": 2})
    assert [frame["mine"] for frame in await reply_and_broadcast(bobs, "reactions")] == [["🎉"], ["🎉"]]
    to_alice, to_guest = await next_of(alices, "reactions"), await next_of(guest, "reactions")
    assert (to_alice["counts"], to_alice["mine"]) == ({"👍": 1, "🎉": 1}, ["👍"])
    assert (to_guest["counts"], to_guest["mine"]) == ({"👍": 1, "🎉": 1}, [])
    await guest.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "👍", "on": True})
    assert (await next_of(guest, "error"))["code"] == "forbidden"


async def test_replay_and_history_show_the_current_state(ws, alice, bob, lobby):
    alices = await subscribed(ws, lobby, user=alice)
    first, second = await sent(alices, "first"), await sent(alices, "second")
    await alices.send_json_to({"type": "edit", "room": "lobby", "seq": first, "body": "first, edited"})
    await next_of(alices, "message_updated")
    await alices.send_json_to({"type": "delete", "room": "lobby", "seq": second})
    await next_of(alices, "message_updated")
    await alices.send_json_to({"type": "react", "room": "lobby", "seq": first, "emoji": "👍", "on": True})
    await next_of(alices, "reactions")

    bobs = await ws(user=bob)
    await bobs.send_json_to({"type": "subscribe", "room": "lobby", "since": 0})
    replayed = [await bobs.receive_json_from(timeout=3) for _ in range(2)]
    assert [(m["body"], m["deleted"], m["reactions"], m["mine"]) for m in replayed] == [
        ("first, edited", False, {"👍": 1}, []),
        ("", True, {}, []),
    ]
    assert replayed[0]["edited_at"] is not None
    await alices.send_json_to({"type": "history", "room": "lobby", "ref": "h"})
    page = (await next_of(alices, "history"))["messages"]
    assert [(m["body"], m["mine"]) for m in page] == [("first, edited", ["👍"]), ("", [])]


async def test_edits_and_reactions_share_the_send_rate_limit(ws, settings, alice, lobby):
    settings.PARLEY = {**settings.PARLEY, "SEND_RATE": "1/2"}
    alices = await subscribed(ws, lobby, user=alice)
    seq = await sent(alices, "x")
    await alices.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "👍", "on": True})
    await next_of(alices, "reactions")
    await alices.send_json_to({"type": "edit", "room": "lobby", "seq": seq, "body": "y", "ref": 9})
    error = await next_of(alices, "error")
    assert (error["code"], error["ref"]) == ("rate_limited", 9)


async def test_taking_a_reaction_off_counts_down_and_a_change_of_nothing_tells_no_one(ws, alice, bob, lobby):
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)
    seq = await sent(alices, "thumbs")
    for client in (alices, bobs):
        await client.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "👍", "on": True, "ref": 1})
        await reply_and_broadcast(client, "reactions")
        await next_of(alices if client is bobs else bobs, "reactions")
    await bobs.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "👍", "on": False, "ref": "off"})
    reply, _ = await reply_and_broadcast(bobs, "reactions")
    assert (reply["ref"], reply["counts"], reply["mine"]) == ("off", {"👍": 1}, [])
    to_alice = await next_of(alices, "reactions")
    assert (to_alice["counts"], to_alice["mine"]) == ({"👍": 1}, ["👍"])  # hers is still on

    # Removing one you do not have, or adding one you have: the answer only, nothing to the room.
    for frame in (
        {"type": "react", "room": "lobby", "seq": seq, "emoji": "👍", "on": False, "ref": "again"},
        {"type": "react", "room": "lobby", "seq": seq, "emoji": "🎉", "on": False, "ref": "never"},
    ):
        await bobs.send_json_to(frame)
        answer = await next_of(bobs, "reactions")
        assert (answer["ref"], answer["counts"], answer["mine"]) == (frame["ref"], {"👍": 1}, [])
    await alices.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "👍", "on": True, "ref": "dup"})
    assert (await next_of(alices, "reactions"))["ref"] == "dup"
    assert await alices.receive_nothing(timeout=0.3)
    assert await bobs.receive_nothing(timeout=0.3)

    # The last one off: the emoji goes from the counts.
    await alices.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "👍", "on": False})
    assert (await next_of(bobs, "reactions"))["counts"] == {}


async def test_a_deleted_message_takes_no_edit_or_reaction_and_a_second_delete_changes_nothing(ws, alice, bob, lobby):
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)
    seq = await sent(alices, "short-lived")
    await bobs.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "👍", "on": True})
    await next_of(alices, "reactions")
    await alices.send_json_to({"type": "delete", "room": "lobby", "seq": seq, "ref": "d1"})
    reply, _ = await reply_and_broadcast(alices, "message_updated")
    assert {key: reply[key] for key in ("ref", "seq", "body", "deleted")} == {
        "ref": "d1",
        "seq": seq,
        "body": "",
        "deleted": True,
    }
    assert (await next_of(bobs, "message_updated"))["deleted"] is True

    for client, frame in (
        (alices, {"type": "edit", "room": "lobby", "seq": seq, "body": "back again", "ref": "e"}),
        (bobs, {"type": "react", "room": "lobby", "seq": seq, "emoji": "🎉", "on": True, "ref": "r"}),
    ):
        await client.send_json_to(frame)
        error = await next_of(client, "error")
        assert (error["code"], error["ref"]) == ("forbidden", frame["ref"]), frame
    await alices.send_json_to({"type": "delete", "room": "lobby", "seq": seq, "ref": "d2"})
    again = await next_of(alices, "message_updated")
    assert (again["ref"], again["body"], again["deleted"]) == ("d2", "", True)
    assert await alices.receive_nothing(timeout=0.3)  # no broadcast: nothing changed
    assert await bobs.receive_nothing(timeout=0.3)


async def test_an_unchanged_edit_is_answered_with_the_current_state_and_tells_no_one(ws, alice, bob, lobby):
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)
    await alices.send_json_to({"type": "send", "room": "lobby", "body": "as it was", "client_id": "c"})
    # The sender's ack and its copy of the message, in either order, so that nothing is left to come.
    own = {frame["type"]: frame for frame in [await alices.receive_json_from(), await alices.receive_json_from()]}
    seq = own["ack"]["seq"]
    assert (await next_of(bobs, "message"))["seq"] == own["message"]["seq"] == seq
    await alices.send_json_to({"type": "edit", "room": "lobby", "seq": seq, "body": "as it was", "ref": "same"})
    reply = await next_of(alices, "message_updated")
    assert (reply["ref"], reply["body"], reply["edited_at"], reply["deleted"]) == ("same", "as it was", None, False)
    assert await alices.receive_nothing(timeout=0.3)
    assert await bobs.receive_nothing(timeout=0.3)
