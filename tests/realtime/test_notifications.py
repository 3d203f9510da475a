"""Notification frames on ``/ws/``: live without subscribing, replay with ``since``, read state
shared by every socket of the user, and sockets closed when their token is revoked."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from parley.accounts.services import token_issue, token_revoke
from parley.notifications.services import anotify, notify

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_signed_in_socket_receives_its_notifications_without_subscribing(ws, alice, bob):
    alices, bobs = await ws(user=alice), await ws(user=bob)
    [stored] = await anotify([alice], "order.status", {"order_id": 3, "status": "shipped"})
    frame = await alices.receive_json_from(timeout=3)
    assert frame == {
        "type": "notification",
        "id": stored.pk,
        "kind": "order.status",
        "data": {"order_id": 3, "status": "shipped"},
        "created_at": frame["created_at"],
        "read": False,
        # Worded and linked as the demo shop registered order.status (orders/apps.py).
        "text": "Order #3 is now shipped.",
        "url": "/orders/3/",
    }
    assert await alices.receive_json_from(timeout=3) == {"type": "notifications_unread", "count": 1}
    assert await bobs.receive_nothing(timeout=0.3)


async def test_replay_since_sends_what_was_missed_then_the_unread_count(ws, alice):
    first = (await anotify([alice], "n", {"i": 1}))[0]
    second = (await anotify([alice], "n", {"i": 2}))[0]
    client = await ws(user=alice)
    await client.send_json_to({"type": "notifications", "since": first.pk, "ref": "r"})
    replayed = await client.receive_json_from(timeout=3)
    assert (replayed["type"], replayed.get("id")) == ("notification", second.pk), replayed
    assert await client.receive_json_from(timeout=3) == {
        "type": "notifications",
        "ref": "r",
        "unread": 2,
        "truncated": False,
    }


async def test_a_notification_during_replay_is_sent_once(ws, alice):
    client = await ws(user=alice)
    stored = (await anotify([alice], "n", {}))[0]
    await client.send_json_to({"type": "notifications", "since": 0})
    frames = [await client.receive_json_from(timeout=3) for _ in range(3)]
    notifications = [frame for frame in frames if frame["type"] == "notification"]
    assert [frame["id"] for frame in notifications] == [stored.pk]
    assert await client.receive_nothing(timeout=0.3)


async def test_reading_in_one_tab_updates_the_count_in_every_tab(ws, alice):
    tab1, tab2 = await ws(user=alice), await ws(user=alice)
    stored = [n.pk for n in await anotify([alice], "n", {})] + [n.pk for n in await anotify([alice], "n", {})]
    for tab in (tab1, tab2):
        for _ in range(4):  # two notifications, each followed by its unread count
            await tab.receive_json_from(timeout=3)
    await tab1.send_json_to({"type": "notification_read", "id": stored[0], "ref": 5})
    # The reader's socket gets its reply (with ref) and, like every other socket of the user, the
    # broadcast of the new count, in either order: counts are state, not deltas.
    assert await frames(tab1, 2) == [
        {"type": "notifications_unread", "ref": 5, "count": 1},
        {"type": "notifications_unread", "count": 1},
    ]
    assert await frames(tab2, 1) == [{"type": "notifications_unread", "count": 1}]
    await tab2.send_json_to({"type": "notification_read", "all": True})
    assert await frames(tab2, 2) == [{"type": "notifications_unread", "count": 0}] * 2
    assert await frames(tab1, 1) == [{"type": "notifications_unread", "count": 0}]


async def frames(client, count):
    """The next ``count`` frames, sorted so that their arrival order does not matter."""
    received = [await client.receive_json_from(timeout=3) for _ in range(count)]
    return sorted(received, key=lambda frame: sorted(frame))


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "notification_read"},
        {"type": "notification_read", "id": 1, "all": True},
        {"type": "notification_read", "id": -1},
        {"type": "notifications", "since": "5"},
    ],
)
async def test_bad_notification_frames_get_invalid_and_the_socket_stays(ws, alice, frame):
    client = await ws(user=alice)
    await client.send_json_to({**frame, "ref": 9})
    error = await client.receive_json_from(timeout=3)
    assert (error["type"], error["code"], error["ref"]) == ("error", "invalid", 9)
    assert error["detail"].endswith(".")
    await client.send_json_to({"type": "ping"})
    assert await client.receive_json_from(timeout=3) == {"type": "pong"}


async def test_guests_have_no_notifications(ws, settings):
    client = await ws(name="zed")
    await client.send_json_to({"type": "notifications", "ref": 1})
    error = await client.receive_json_from(timeout=3)
    assert (error["code"], error["ref"]) == ("forbidden", 1)


async def test_revoking_a_token_closes_the_sockets_it_opened(ws, alice):
    issued = await sync_to_async(token_issue)(user=alice)
    other = await sync_to_async(token_issue)(user=alice)
    revoked_socket, kept_socket = await ws(token=issued.secret, origin=None), await ws(token=other.secret, origin=None)
    session_socket = await ws(user=alice)
    await sync_to_async(token_revoke)(token=issued.token)
    error = await revoked_socket.receive_json_from(timeout=3)
    assert (error["type"], error["code"]) == ("error", "forbidden")
    assert await revoked_socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
    for socket in (kept_socket, session_socket):
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=3) == {"type": "pong"}


async def test_notify_from_sync_code_reaches_the_socket(ws, alice):
    client = await ws(user=alice)
    await sync_to_async(notify)([alice.pk], "sync.kind", {"x": 1})
    frame = await client.receive_json_from(timeout=3)
    assert (frame["type"], frame["kind"]) == ("notification", "sync.kind")


async def test_a_user_is_online_while_any_socket_is_open(ws, alice, bob):
    from parley.presence.online import user_online

    first, second = await ws(user=alice), await ws(user=alice)
    assert user_online(alice.pk)
    assert not user_online(bob.pk)
    await first.disconnect()
    assert user_online(alice.pk)
    await second.disconnect()
    assert not user_online(alice.pk)


async def test_a_revoked_token_is_refused_at_once_even_after_it_was_used(ws, alice):
    issued = await sync_to_async(token_issue)(user=alice)
    first = await ws(token=issued.secret, origin=None)  # the handshake remembers the token
    await first.send_json_to({"type": "ping"})
    assert await first.receive_json_from(timeout=3) == {"type": "pong"}
    await sync_to_async(token_revoke)(token=issued.token)
    again = await ws(token=issued.secret, origin=None)
    error = await again.receive_json_from(timeout=3)
    assert "unknown or revoked" in error["detail"]
    assert await again.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
