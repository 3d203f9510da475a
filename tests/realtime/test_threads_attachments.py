"""Over the socket: a send with files and reply_to, the thread frame the room gets, a thread's history page."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgiref.sync import sync_to_async

from parley.accounts.identity import user_identity
from parley.rooms.attachments import attachment_upload
from tests.media import png_with_gps, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


async def subscribed(ws, room, **who):
    client = await ws(**who)
    await client.send_json_to({"type": "subscribe", "room": room.slug})
    while (await client.receive_json_from(timeout=3))["type"] != "subscribed":
        pass
    return client


async def next_of(client, kind):
    while (frame := await client.receive_json_from(timeout=3))["type"] != kind:
        pass
    return frame


async def test_a_reply_with_a_file_reaches_the_room_with_the_threads_new_count(ws, alice, bob, lobby):
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)
    await alices.send_json_to({"type": "send", "room": "lobby", "body": "question", "client_id": "q"})
    await next_of(alices, "ack")
    file = await sync_to_async(attachment_upload)(
        room=lobby, uploader=user_identity(alice), upload=upload("me.png", png_with_gps())
    )
    send = {
        "type": "send",
        "room": "lobby",
        "body": "answer",
        "client_id": "a",
        "reply_to": 1,
        "attachments": [file.pk],
    }
    await alices.send_json_to(send)
    assert (await next_of(alices, "ack"))["seq"] == 2
    await next_of(bobs, "message")  # the question
    reply = await next_of(bobs, "message")
    assert (reply["seq"], reply["reply_to"]) == (2, 1)
    assert [(f["id"], f["width"], f["height"]) for f in reply["attachments"]] == [(file.pk, 640, 480)]
    assert await next_of(bobs, "thread") == {
        "type": "thread",
        "room": "lobby",
        "seq": 1,
        "thread_count": 1,
        "last_reply": 2,
    }
    await bobs.send_json_to({"type": "history", "room": "lobby", "thread": 1, "ref": "t"})
    page = await next_of(bobs, "history")
    assert page["thread"] == 1
    assert [(m["seq"], m["thread_count"]) for m in page["messages"]] == [(1, 1), (2, 0)]
    # A file that is not the sender's is refused, and nothing is stored.
    await bobs.send_json_to({"type": "send", "room": "lobby", "body": "x", "client_id": "b", "attachments": [file.pk]})
    error = await next_of(bobs, "error")
    assert error["code"] == "not_found"
    await alices.disconnect()
    await bobs.disconnect()


async def test_deleting_replies_sends_the_threads_new_count_and_newest_reply(ws, alice, bob, lobby):
    alices, bobs = await subscribed(ws, lobby, user=alice), await subscribed(ws, lobby, user=bob)
    await alices.send_json_to({"type": "send", "room": "lobby", "body": "question", "client_id": "q"})
    for n in (1, 2):
        await alices.send_json_to(
            {"type": "send", "room": "lobby", "body": f"answer {n}", "client_id": f"a{n}", "reply_to": 1}
        )
    for count in (1, 2):
        assert (await next_of(bobs, "thread"))["thread_count"] == count
    await alices.send_json_to({"type": "delete", "room": "lobby", "seq": 3})
    assert (await next_of(bobs, "message_updated"))["seq"] == 3
    thread = {"type": "thread", "room": "lobby", "seq": 1}
    assert await next_of(bobs, "thread") == {**thread, "thread_count": 1, "last_reply": 2}
    await alices.send_json_to({"type": "delete", "room": "lobby", "seq": 2})
    assert await next_of(bobs, "thread") == {**thread, "thread_count": 0, "last_reply": None}
    await bobs.send_json_to({"type": "history", "room": "lobby", "thread": 1})
    assert [m["seq"] for m in (await next_of(bobs, "history"))["messages"]] == [1]
    await alices.disconnect()
    await bobs.disconnect()
