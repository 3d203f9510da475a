"""Unread counts for many rooms in one query, and what they count."""

from __future__ import annotations

import pytest

from parley.accounts.identity import guest_identity, user_identity
from parley.accounts.permissions import READ_ALL_ROOMS
from parley.direct.services import direct_conversation_open
from parley.moderation.services import (
    member_ban,
    member_invite,
    member_remove,
    room_settings_update,
)
from parley.readstate import selectors
from parley.readstate.selectors import Unread, room_list, unread_count, unread_counts
from parley.readstate.services import read_marker_advance
from parley.rooms.models import Message
from parley.rooms.services import membership_leave, message_delete, message_post, room_create

pytestmark = pytest.mark.django_db


def post(room, who, count=1):
    for number in range(count):
        message_post(room=room, sender=who, body=f"message {number}", client_id=f"{who.key}-{room.pk}-{number}")


def test_counts_for_many_rooms_take_one_query(make_user, make_room, django_assert_num_queries):
    alice, bob = make_user("alice"), make_user("bob")
    rooms = [make_room(f"room-{number}") for number in range(30)]
    for number, room in enumerate(rooms):
        post(room, user_identity(bob), number % 4)
        if number % 3 == 0:
            read_marker_advance(user=alice, room=room, seq=1)
    room_ids = [room.pk for room in rooms]
    with django_assert_num_queries(1):
        counts = unread_counts(user_id=alice.pk, room_ids=room_ids)
    expected = {}
    for number, room in enumerate(rooms):
        read = min(1, number % 4) if number % 3 == 0 else 0
        expected[room.pk] = Unread(count=number % 4 - read, last_read=read)
    assert counts == expected


def test_no_rooms_take_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert unread_counts(user_id=1, room_ids=[]) == {}


def test_deleted_messages_are_not_unread(make_user, make_room):
    alice, bob, lobby = make_user("alice"), make_user("bob"), make_room("lobby")
    post(lobby, user_identity(bob), 3)
    message_delete(room=lobby, actor=user_identity(bob), seq=2)
    assert unread_counts(user_id=alice.pk, room_ids=[lobby.pk]) == {lobby.pk: Unread(count=2, last_read=0)}


def test_only_the_newest_window_of_messages_is_counted(make_user, make_room, monkeypatch):
    monkeypatch.setattr(selectors, "UNREAD_WINDOW", 5)
    alice, bob, lobby = make_user("alice"), make_user("bob"), make_room("lobby")
    post(lobby, user_identity(bob), 8)
    assert unread_counts(user_id=alice.pk, room_ids=[lobby.pk]) == {lobby.pk: Unread(count=5, last_read=0)}
    read_marker_advance(user=alice, room=lobby, seq=6)
    assert unread_counts(user_id=alice.pk, room_ids=[lobby.pk]) == {lobby.pk: Unread(count=2, last_read=6)}
    assert Message.objects.filter(room=lobby).count() == 8


def test_the_room_list_holds_rooms_and_conversations_apart_in_three_queries(
    make_user, make_room, django_assert_num_queries
):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    general, lobby = make_room("general"), make_room("lobby", guests_allowed=True)
    make_room("secret", is_private=True, members=[bob])
    with_bob = direct_conversation_open(user=alice, username="bob").conversation.room
    with_carol = direct_conversation_open(user=carol, username="alice").conversation.room
    direct_conversation_open(user=bob, username="carol")  # not alice's
    post(general, user_identity(bob), 2)
    post(with_bob, user_identity(bob), 3)
    read_marker_advance(user=alice, room=with_bob, seq=1)
    post(with_carol, user_identity(carol), 1)

    reader = user_identity(alice)
    reader.can(READ_ALL_ROOMS)  # an identity asks for its permissions once (tests/rooms/test_access.py)
    with django_assert_num_queries(3):
        found = room_list(identity=reader)
    assert [(entry.room.slug, entry.unread) for entry in found.rooms] == [
        ("general", Unread(count=2, last_read=0)),
        ("lobby", Unread(count=0, last_read=0)),
    ]
    # Newest activity first, by the other person, never among the rooms.
    assert [(entry.other.username, entry.unread) for entry in found.directs] == [
        ("carol", Unread(count=1, last_read=0)),
        ("bob", Unread(count=2, last_read=1)),
    ]
    assert found.directs[1].room == with_bob

    # Staff may enter every room, but only their own conversations are listed, and apart.
    staff = room_list(identity=user_identity(make_user("root", staff=True)))
    assert [entry.room.slug for entry in staff.rooms] == ["general", "lobby", "secret"]
    assert staff.directs == []
    # Guests see the rooms open to guests, with no read state and no conversations.
    guest = room_list(identity=guest_identity(guest_id="g", name="zed"))
    assert [(entry.room, entry.unread) for entry in guest.rooms] == [(lobby, None)]
    assert guest.directs == []


def test_rooms_a_user_may_not_read_have_no_count_and_are_not_listed(make_user, make_room):
    """A count is something of the room: a ban, a removal or a room made private takes it away with
    the rest (staff keep every room's)."""
    owner, alice, root = make_user("owner"), make_user("alice"), make_user("root", staff=True)
    town = room_create(slug="town", creator=owner)
    vault = room_create(slug="vault", creator=owner, is_private=True)
    plaza = room_create(slug="plaza", creator=owner)
    member_invite(room=vault, actor=owner, username="alice")
    for room in (town, vault, plaza):
        post(room, user_identity(owner), 2)
    rooms = [town.pk, vault.pk, plaza.pk]
    assert set(unread_counts(user_id=alice.pk, room_ids=rooms)) == set(rooms)
    assert [entry.room.slug for entry in room_list(identity=user_identity(alice)).rooms] == ["plaza", "town", "vault"]

    member_ban(room=town, actor=owner, username="alice")
    member_remove(room=vault, actor=owner, username="alice")
    room_settings_update(room=plaza, actor=owner, title="", is_private=True, guests_allowed=False)
    assert unread_counts(user_id=alice.pk, room_ids=rooms) == {}
    assert unread_count(user_id=alice.pk, room_id=town.pk) == Unread(count=0, last_read=0)
    assert room_list(identity=user_identity(alice)).rooms == []
    assert unread_counts(user_id=root.pk, room_ids=rooms) == dict.fromkeys(rooms, Unread(count=2, last_read=0))


def test_a_conversation_the_user_left_is_no_longer_listed(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    room = direct_conversation_open(user=alice, username="bob").conversation.room
    post(room, user_identity(bob), 1)
    membership_leave(room=room, user=alice)
    assert room_list(identity=user_identity(alice)).directs == []
    assert [entry.other for entry in room_list(identity=user_identity(bob)).directs] == [alice]
