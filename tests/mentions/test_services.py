"""Mention notifications: for users who may read the room, never the author."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from parley.accounts.identity import guest_identity, user_identity
from parley.mentions.services import mentions_notify
from parley.notifications.models import Notification
from parley.rooms.models import Membership
from parley.rooms.services import message_post, room_get_or_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {name: make_user(name) for name in ("alice", "bob", "carol", "dave")}


def post(room, sender, body: str):
    return message_post(room=room, sender=sender, body=body, client_id=body[:60]).message


def test_each_mentioned_reader_gets_one_mention_notification(people):
    room = room_get_or_create(slug="general", creator=people["alice"]).room
    message = post(room, user_identity(people["alice"]), "@Bob and @carol, see @bob's note; @alice @nobody")
    assert sorted(mentions_notify(message_id=message.pk)) == sorted([people["bob"].pk, people["carol"].pk])
    rows = Notification.objects.filter(kind="mention").order_by("recipient_id")
    assert [row.recipient_id for row in rows] == sorted([people["bob"].pk, people["carol"].pk])
    assert rows[0].data == {
        "room": "general",
        "seq": message.seq,
        "message_id": message.pk,
        "author": "alice",
        "author_guest": False,
        "excerpt": "@Bob and @carol, see @bob's note; @alice @nobody",
    }


def test_nobody_outside_a_private_room_is_told_about_it(people):
    vault = room_get_or_create(slug="vault", is_private=True, creator=people["alice"]).room
    Membership.objects.create(room=vault, user=people["bob"])
    message = post(vault, user_identity(people["alice"]), "@bob @dave secret plans")
    assert mentions_notify(message_id=message.pk) == [people["bob"].pk]


def test_guests_can_mention_users_and_long_bodies_are_cut(settings, people):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": True}
    lobby = room_get_or_create(slug="lobby", guests_allowed=True).room
    message = post(lobby, guest_identity(guest_id="g1", name="zed"), "@bob " + "word " * 100)
    mentions_notify(message_id=message.pk)
    data = Notification.objects.get(kind="mention").data
    assert (data["author"], data["author_guest"]) == ("zed", True)  # the bell says "zed (guest) mentioned you"
    assert len(data["excerpt"]) == 140
    assert data["excerpt"].endswith("…")


@pytest.mark.django_db(transaction=True)
async def test_a_mention_sent_on_a_socket_reaches_the_mentioned_users_socket(ws, make_user, settings):
    settings.PARLEY = {**settings.PARLEY, "TASKS": "inline"}
    alice, bob = await sync_to_async(make_user)("alice"), await sync_to_async(make_user)("bob")
    await sync_to_async(room_get_or_create)(slug="general", creator=alice)
    alices, bobs = await ws(user=alice), await ws(user=bob)
    await alices.send_json_to({"type": "send", "room": "general", "body": "ping @bob", "client_id": "c-1"})
    ack = await alices.receive_json_from(timeout=5)
    frame = await bobs.receive_json_from(timeout=5)
    assert (frame["type"], frame["kind"]) == ("notification", "mention"), frame
    assert frame["data"] == {
        "room": "general",
        "seq": ack["seq"],
        "message_id": ack["id"],
        "author": "alice",
        "author_guest": False,
        "excerpt": "ping @bob",
    }


def test_notifying_again_notifies_only_who_was_not_notified_before(people):
    room = room_get_or_create(slug="general", creator=people["alice"]).room
    message = post(room, user_identity(people["alice"]), "@bob look")
    assert mentions_notify(message_id=message.pk) == [people["bob"].pk]
    message.body = "@bob look, and @carol"
    message.save(update_fields=["body"])
    assert mentions_notify(message_id=message.pk) == [people["carol"].pk]
    assert mentions_notify(message_id=message.pk) == []
    assert Notification.objects.filter(kind="mention").count() == 2


@pytest.mark.django_db(transaction=True)
async def test_an_edit_that_names_someone_new_notifies_them_once(ws, make_user, settings):
    settings.PARLEY = {**settings.PARLEY, "TASKS": "inline"}
    alice, bob, carol = [await sync_to_async(make_user)(name) for name in ("alice", "bob", "carol")]
    await sync_to_async(room_get_or_create)(slug="general", creator=alice)
    alices, bobs, carols = await ws(user=alice), await ws(user=bob), await ws(user=carol)
    await alices.send_json_to({"type": "send", "room": "general", "body": "lunch?", "client_id": "c-1"})
    seq = (await alices.receive_json_from(timeout=5))["seq"]
    await alices.send_json_to({"type": "edit", "room": "general", "seq": seq, "body": "lunch, @bob?"})
    frame = await bobs.receive_json_from(timeout=5)
    assert (frame["type"], frame["kind"], frame["data"]["excerpt"]) == ("notification", "mention", "lunch, @bob?")
    await alices.send_json_to({"type": "edit", "room": "general", "seq": seq, "body": "lunch, @bob and @carol?"})
    frame = await carols.receive_json_from(timeout=5)
    assert (frame["type"], frame["kind"]) == ("notification", "mention")
    mentioned = await sync_to_async(list)(
        Notification.objects.filter(kind="mention").order_by("id").values_list("recipient__username", flat=True)
    )
    assert mentioned == ["bob", "carol"]  # bob, named in both edits, was told once
