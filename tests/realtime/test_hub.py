"""The hub keeps each room's stream in seq order and repairs gaps from storage."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db.models import F

from parley.events.publish import (
    ROOM_CLOSED,
    ROOM_FRAME,
    ROOM_KICK,
    ROOM_MESSAGE,
    ROOMS_FRAMES,
    TOKEN_REVOKED,
    USER_FRAME,
    USER_NOTIFICATION,
    USER_SIGNED_OUT,
    USER_UNREAD,
    room_group,
)
from parley.realtime.hub import EventBatch, Hub, Inbox, Outbox, RoomEvent, RoomFeed, Subscription, UserFeed
from parley.realtime.hub.coordinator import HANDLERS
from parley.rooms.models import Message, Room
from parley.wire.serializers import message_data

pytestmark = pytest.mark.django_db(transaction=True)


def store_silently(room: Room, count: int) -> list[dict]:
    """Store messages without publishing them, as if the channel layer had lost their events."""
    stored = []
    for _ in range(count):
        Room.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + 1)
        seq = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
        message = Message.objects.create(
            room=room, seq=seq, guest_name="zed", guest_id="g", body=f"m{seq}", client_id=f"c{seq}"
        )
        stored.append({"type": ROOM_MESSAGE, "room_id": room.pk, "seq": seq, "message": message_data(message)})
    return stored


async def subscribed_reader(ws, slug):
    reader = await ws(name="reader")
    await reader.send_json_to({"type": "subscribe", "room": slug})
    assert (await reader.receive_json_from())["type"] == "subscribed"
    return reader


async def received_seqs(reader, count, wait=3):
    return [(await reader.receive_json_from(timeout=wait))["seq"] for _ in range(count)]


async def test_events_that_arrive_out_of_order_are_delivered_in_order(ws, make_room):
    room = await sync_to_async(make_room)("lobby", guests_allowed=True)
    reader = await subscribed_reader(ws, "lobby")
    events = await sync_to_async(store_silently)(room, 3)
    layer = get_channel_layer()
    for event in (events[2], events[0], events[1]):
        await layer.group_send(room_group(room.pk), event)
    assert await received_seqs(reader, 3) == [1, 2, 3]


async def test_a_lost_event_is_read_from_storage_within_the_gap_wait(ws, make_room, settings):
    settings.PARLEY = {**settings.PARLEY, "GAP_WAIT": 0.2}
    room = await sync_to_async(make_room)("lobby", guests_allowed=True)
    reader = await subscribed_reader(ws, "lobby")
    events = await sync_to_async(store_silently)(room, 4)
    # Only the last event arrives; 1-3 were "dropped" by the layer.
    await get_channel_layer().group_send(room_group(room.pk), events[3])
    assert await received_seqs(reader, 4, wait=1.5) == [1, 2, 3, 4]


async def test_duplicate_events_are_delivered_once(ws, make_room):
    room = await sync_to_async(make_room)("lobby", guests_allowed=True)
    reader = await subscribed_reader(ws, "lobby")
    (event,) = await sync_to_async(store_silently)(room, 1)
    layer = get_channel_layer()
    await layer.group_send(room_group(room.pk), event)
    await layer.group_send(room_group(room.pk), event)
    assert await received_seqs(reader, 1) == [1]
    assert await reader.receive_nothing(timeout=0.4)


def test_each_event_the_hub_follows_goes_to_the_method_named_after_its_type():
    # As Channels names a consumer's handlers: "room.message" -> Hub.room_message.
    kinds = [ROOM_MESSAGE, ROOM_FRAME, ROOMS_FRAMES, ROOM_KICK, ROOM_CLOSED, USER_NOTIFICATION, USER_UNREAD, USER_FRAME]
    kinds += [TOKEN_REVOKED, USER_SIGNED_OUT]
    assert set(HANDLERS) == set(kinds)
    for kind in kinds:
        assert HANDLERS[kind] is getattr(Hub, kind.replace(".", "_"))


async def test_an_event_of_unknown_type_is_ignored_and_the_hub_reads_on(ws, make_room, caplog):
    room = await sync_to_async(make_room)("lobby", guests_allowed=True)
    reader = await subscribed_reader(ws, "lobby")
    (event,) = await sync_to_async(store_silently)(room, 1)
    layer = get_channel_layer()
    # "sign.in" names a method of the hub that is no event handler: it is unknown all the same.
    for kind in ("room.vanished", "sign.in"):
        await layer.group_send(room_group(room.pk), {"type": kind, "room_id": room.pk})
    await layer.group_send(room_group(room.pk), event)
    assert await received_seqs(reader, 1) == [1]
    ignored = [record.event_type for record in caplog.records if record.getMessage().startswith("hub ignored")]
    assert ignored == ["room.vanished", "sign.in"]


async def test_one_group_membership_per_room_per_process(ws, make_room):
    await sync_to_async(make_room)("lobby", guests_allowed=True)
    readers = [await subscribed_reader(ws, "lobby") for _ in range(3)]
    layer = get_channel_layer()
    room = await sync_to_async(Room.objects.get)(slug="lobby")
    assert len(layer.groups[room_group(room.pk)]) == 1
    for reader in readers:
        await reader.disconnect()
    assert room_group(room.pk) not in layer.groups or not layer.groups[room_group(room.pk)]


async def test_an_outbox_whose_socket_stops_taking_frames_overflows_once():
    """The writer is stuck in ``send`` (a client that stopped reading): frames queue up to the limit."""
    gate = asyncio.Event()
    sent, overflows = [], []

    async def send(message):
        await gate.wait()
        sent.append(message["text"])

    outbox = Outbox(send, limit=100, on_overflow=lambda: overflows.append(True))
    for i in range(30):
        outbox.push(f"frame-{i:02d}")  # 8 bytes each
    await asyncio.sleep(0.01)
    assert overflows == [True]
    assert outbox.closed
    gate.set()
    await asyncio.sleep(0.01)
    # The socket is being closed: its writer stopped, so nothing more is written to it.
    assert sent == []


async def test_an_outbox_keeps_frames_in_order():
    sent = []

    async def send(message):
        sent.append(message["text"])

    outbox = Outbox(send, limit=10_000, on_overflow=lambda: None)
    for i in range(50):
        outbox.push(str(i))
    await asyncio.sleep(0.01)
    assert sent == [str(i) for i in range(50)]
    outbox.close()


async def test_a_lost_last_message_is_found_by_the_head_sweep(ws, make_room, settings):
    settings.PARLEY = {**settings.PARLEY, "SWEEP_INTERVAL": 0.2}
    settings.PARLEY = {**settings.PARLEY, "GAP_WAIT": 0.1}
    room = await sync_to_async(make_room)("lobby", guests_allowed=True)
    reader = await subscribed_reader(ws, "lobby")
    # No event at all reaches the hub: only the stored head tells it something is missing.
    await sync_to_async(store_silently)(room, 2)
    assert await received_seqs(reader, 2, wait=2) == [1, 2]


async def test_a_run_of_events_reaches_a_subscription_once_each_in_order_wherever_it_stands():
    """A batch (a repair's run) given to subscriptions that are behind it, inside it, or not live yet."""
    sent: dict[str, list[int]] = {"behind": [], "inside": [], "joining": []}

    def outbox_for(name):
        async def send(message):
            sent[name].append(json.loads(message["text"])["seq"])

        return Outbox(send, limit=100_000, on_overflow=lambda: None)

    feed = RoomFeed(room_id=1, slug="lobby")
    subscriptions = {name: Subscription(feed, outbox_for(name), "v1") for name in sent}
    subscriptions["behind"].activate(3)
    subscriptions["inside"].activate(5)  # it was given up to 5 already (a replay, say)
    batch = EventBatch([RoomEvent(seq, {"room": "lobby", "seq": seq, "body": f"m{seq}"}) for seq in range(4, 8)])
    for subscription in subscriptions.values():
        subscription.offer_all(batch)
    subscriptions["joining"].activate(4)  # its replay ended at 4: 5, 6 and 7 come from what it held
    await asyncio.sleep(0.01)
    assert sent == {"behind": [4, 5, 6, 7], "inside": [6, 7], "joining": [5, 6, 7]}


async def test_a_live_event_reaches_each_subscription_once_in_its_protocol_wherever_it_stands():
    """Events one at a time (the live path) to subscriptions behind them in either protocol,
    ahead of them (given more by a replay), or not live yet."""
    sent: dict[str, list[str]] = {"v1": [], "tutorial": [], "ahead": [], "joining": []}

    def outbox_for(name):
        async def send(message):
            frame = json.loads(message["text"])
            sent[name].append(frame["message"] if name == "tutorial" else frame["body"])

        return Outbox(send, limit=100_000, on_overflow=lambda: None)

    feed = RoomFeed(room_id=1, slug="lobby")
    feed.start(3)
    formats = {"v1": "v1", "tutorial": "tutorial", "ahead": "v1", "joining": "v1"}
    subscriptions = {name: Subscription(feed, outbox_for(name), fmt) for name, fmt in formats.items()}
    for name, subscription in subscriptions.items():
        if name != "joining":
            subscription.activate(5 if name == "ahead" else 3)
        feed.subscriptions.add(subscription)
    for seq in (4, 5, 6):
        feed.accept(seq, {"room": "lobby", "seq": seq, "body": f"m{seq}"})
    subscriptions["joining"].activate(4)  # its replay ended at 4: 5 and 6 come from what it held
    await asyncio.sleep(0.01)
    assert sent == {"v1": ["m4", "m5", "m6"], "tutorial": ["m4", "m5", "m6"], "ahead": ["m6"], "joining": ["m5", "m6"]}


async def test_the_unread_count_goes_out_when_the_sweep_delivered_the_notification_first():
    sent = []

    async def send(message):
        sent.append(json.loads(message["text"]))

    feed = UserFeed(user_id=1)
    feed.inboxes.add(Inbox(1, Outbox(send, limit=10_000, on_overflow=lambda: None)))
    stored = {"id": 7, "kind": "order.status", "data": {"order_id": 7}}
    feed.catch_up(7, [stored])  # the sweep read it from storage before the layer's event arrived
    feed.notification(stored, unread=1)  # the layer's event: the notification again, and the count
    await asyncio.sleep(0.01)
    assert [frame["type"] for frame in sent] == ["notification", "notifications_unread"]
    assert sent[1]["count"] == 1
