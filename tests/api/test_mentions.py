"""GET /api/rooms/{slug}/people: who the composer suggests after "@"."""

from __future__ import annotations

import uuid

import pytest

from parley.accounts.identity import user_identity
from parley.moderation.services import member_ban
from parley.rooms.services import membership_join, message_post, room_create

pytestmark = pytest.mark.django_db


def say(room, user, body):
    return message_post(room=room, sender=user_identity(user), body=body, client_id=uuid.uuid4().hex).message


def test_people_suggests_members_and_recent_authors_by_prefix(api_as, make_user, make_room) -> None:
    alice, albert, alfred, bob = make_user("alice"), make_user("Albert"), make_user("alfred"), make_user("bob")
    make_user("alvin")  # never in the room
    room = make_room("general")
    membership_join(room=room, user=albert)
    membership_join(room=room, user=bob)
    say(room, alfred, "hello")  # an author, and a member since posting joins
    response = api_as(alice).get("/rooms/general/people", prefix="AL")
    assert response.status_code == 200
    assert response.json() == {"room": "general", "people": ["Albert", "alfred"]}
    assert api_as(bob).get("/rooms/general/people").json()["people"] == ["Albert", "alfred"]
    assert "bob" not in api_as(bob).get("/rooms/general/people", prefix="b").json()["people"]


def test_people_of_a_private_room_are_for_its_members_only(api_as, make_user, make_room) -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    secret = make_room("secret", is_private=True)
    membership_join(room=secret, user=alice)
    membership_join(room=secret, user=carol)
    assert api_as(alice).get("/rooms/secret/people").json()["people"] == ["carol"]
    assert api_as(bob).get("/rooms/secret/people").status_code == 404


def test_people_banned_from_a_room_are_not_suggested_there(api_as, make_user, make_room) -> None:
    """A mention would not reach them: they may not read the room (its recent authors included)."""
    owner, alice, albert = make_user("owner"), make_user("alice"), make_user("albert")
    room = room_create(slug="general", creator=owner)
    say(room, albert, "hello")
    say(room, alice, "hi")
    member_ban(room=room, actor=owner, username="albert")
    assert api_as(alice).get("/rooms/general/people", prefix="al").json()["people"] == []
    assert api_as(owner).get("/rooms/general/people", prefix="al").json()["people"] == ["alice"]


def test_people_prefix_is_a_username_start(api_as, make_user, make_room) -> None:
    make_room("general")
    response = api_as(make_user("alice")).get("/rooms/general/people", prefix="a b")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
