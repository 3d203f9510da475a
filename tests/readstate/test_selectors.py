"""Unread counts for many rooms in one query, and what they count."""

from __future__ import annotations

import pytest

from parley.accounts.identity import user_identity
from parley.readstate import selectors
from parley.readstate.selectors import Unread, unread_counts
from parley.readstate.services import read_marker_advance
from parley.rooms.models import Message
from parley.rooms.services import message_delete, message_post

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
