"""Every client frame counts against a limit, and a socket follows a bounded number of rooms.

``ping``, ``unsubscribe`` and ``typing`` share ``PARLEY_FRAME_RATE`` (10/60); ``notifications``
and ``notification_read`` count as history requests (``PARLEY_HISTORY_RATE``, 10/30); each
frame's burst is tested with the others' in ``test_rate_limits.py``. A socket follows at most
``PARLEY_MAX_SUBSCRIPTIONS`` rooms (100).
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from parley.realtime.ratelimit import FRAME_KINDS
from parley.wire import frames
from tests.realtime.test_rate_limits import ABUSE_REFUSALS, clock, protocol_frame, replies  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

FRAME_BURST = 60


def test_every_client_frame_type_counts_against_a_limit():
    # Equal, not merely included: a frame type renamed or dropped must not leave a stale limit behind.
    assert set(frames.CLIENT_FRAME_TYPES) == set(FRAME_KINDS)


async def test_a_ping_flood_closes_the_socket_with_4429(ws, alice, clock):  # noqa: F811
    client = await ws(user=alice)
    for i in range(FRAME_BURST + ABUSE_REFUSALS):
        await client.send_json_to({"type": "ping", "ref": i})
    frames = [await client.receive_output(timeout=3) for _ in range(FRAME_BURST + ABUSE_REFUSALS + 1)]
    texts = [protocol_frame(frame) for frame in frames[:-1]]
    assert [frame["type"] for frame in texts] == ["pong"] * FRAME_BURST + ["error"] * ABUSE_REFUSALS
    assert frames[-1] == {"type": "websocket.close", "code": 4429}


async def test_a_socket_follows_at_most_max_subscriptions_rooms(ws, alice, make_room, settings):
    settings.PARLEY = {**settings.PARLEY, "MAX_SUBSCRIPTIONS": 3}
    for slug in ("a", "b", "c", "d"):
        await sync_to_async(make_room)(slug)
    client = await ws(user=alice)
    for slug in ("a", "b", "c"):
        await client.send_json_to({"type": "subscribe", "room": slug})
        assert (await replies(client, 1))[0]["type"] == "subscribed"

    await client.send_json_to({"type": "subscribe", "room": "d", "ref": "fourth"})
    [error] = await replies(client, 1)
    assert error == {
        "type": "error",
        "ref": "fourth",
        "code": "too_large",
        "detail": "A socket may follow at most 3 rooms and this one follows 3; "
        "unsubscribe from one first, or open another socket.",
    }
    # Following a room again is no new subscription; leaving one makes room for another.
    await client.send_json_to({"type": "subscribe", "room": "c", "since": 0})
    assert (await replies(client, 1))[0]["type"] == "subscribed"
    await client.send_json_to({"type": "unsubscribe", "room": "a"})
    assert (await replies(client, 1))[0]["type"] == "unsubscribed"
    await client.send_json_to({"type": "subscribe", "room": "d"})
    assert (await replies(client, 1))[0]["type"] == "subscribed"
    # Other sockets of the same user have their own count.
    other = await ws(user=alice)
    await other.send_json_to({"type": "subscribe", "room": "a"})
    assert (await replies(other, 1))[0]["type"] == "subscribed"
