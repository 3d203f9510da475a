"""The caller's unread count and read marker on /api/rooms (one query for the whole list) and /api/rooms/{slug}."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parley.accounts.identity import user_identity
from parley.readstate.services import read_marker_advance
from parley.rooms.services import message_post

pytestmark = pytest.mark.django_db


def post(room, user, count):
    for number in range(count):
        message_post(room=room, sender=user_identity(user), body=f"m{number}", client_id=f"{room.slug}-{number}")


def test_rooms_carry_my_unread_count_and_marker(make_user, make_room, api_as):
    alice, bob = make_user("alice"), make_user("bob")
    lobby, quiet = make_room("lobby"), make_room("quiet")
    post(lobby, bob, 4)
    post(quiet, alice, 2)  # your own messages are never unread
    read_marker_advance(user=alice, room=lobby, seq=1)
    rooms = {room["slug"]: room for room in api_as(alice).get("/rooms").json()}
    assert (rooms["lobby"]["unread"], rooms["lobby"]["last_read"]) == (3, 1)
    assert (rooms["quiet"]["unread"], rooms["quiet"]["last_read"]) == (0, 0)
    # Bob has read nothing of the room he wrote in, and all of alice's.
    rooms = {room["slug"]: room for room in api_as(bob).get("/rooms").json()}
    assert (rooms["lobby"]["unread"], rooms["quiet"]["unread"]) == (0, 2)
    shown = api_as(alice).get("/rooms/lobby").json()
    assert (shown["unread"], shown["last_read"]) == (3, 1)


def test_the_room_list_costs_the_same_queries_for_3_rooms_as_for_30(make_user, make_room, api_as):
    alice, bob = make_user("alice"), make_user("bob")
    client = api_as(alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/rooms").status_code == 200
        return len(captured)

    for number in range(3):
        post(make_room(f"first-{number}"), bob, 2)
    few = queries()
    for number in range(27):
        post(make_room(f"more-{number}"), bob, 2)
    assert len(client.get("/rooms").json()) == 30
    assert queries() == few
