"""/api/rooms…: list, create, show, join, leave, read messages and post (with Idempotency-Key)."""

from __future__ import annotations

import pytest

from parley.accounts.identity import user_identity
from parley.rooms.models import Membership, Message, Room
from parley.rooms.services import message_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def test_the_room_list_shows_public_rooms_and_my_private_ones_with_my_role(make_user, make_room, api_as, alice):
    bob = make_user("bob")
    make_room("lobby")
    make_room("mine", is_private=True, members=[alice])
    make_room("secret", is_private=True, members=[bob])
    response = api_as(alice).get("/rooms")
    assert response.status_code == 200
    assert [(r["slug"], r["private"], r["role"]) for r in response.json()] == [
        ("lobby", False, None),
        ("mine", True, "member"),
    ]


def test_a_created_room_is_owned_by_its_creator(api_as, alice):
    response = api_as(alice).post("/rooms", {"slug": "plans", "title": "Plans", "private": True})
    assert response.status_code == 201
    assert response.json() == {
        "slug": "plans",
        "title": "Plans",
        "private": True,
        "guests_allowed": False,
        "head": 0,
        "role": "owner",
        "unread": 0,
        "last_read": 0,
    }
    assert Membership.objects.get(room__slug="plans").role == "owner"


def test_a_taken_slug_is_refused_and_nothing_changes(make_room, api_as, alice):
    make_room("plans", title="Old")
    response = api_as(alice).post("/rooms", {"slug": "plans", "title": "New"})
    assert response.status_code == 409
    assert response.json() == {"code": "invalid", "detail": "A room 'plans' already exists; choose another slug."}
    assert Room.objects.get(slug="plans").title == "Old"


def test_a_bad_slug_is_refused_with_a_sentence(api_as, alice):
    response = api_as(alice).post("/rooms", {"slug": "no spaces"})
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Field 'slug' of the JSON body must be a room slug: 1 to 64 letters, digits, '-' or '_'."
    )
    assert not Room.objects.exists()


def test_show_a_room_with_its_head(make_room, api_as, alice):
    room = make_room("lobby")
    message_post(room=room, sender=user_identity(alice), body="hi", client_id="c1")
    response = api_as(alice).get("/rooms/lobby")
    assert response.status_code == 200
    assert response.json()["head"] == 1
    assert response.json()["role"] == "member"  # posting made alice a member


def test_join_then_leave(make_room, api_as, alice):
    make_room("lobby")
    client = api_as(alice)
    joined = client.post("/rooms/lobby/join")
    assert (joined.status_code, joined.json()["role"]) == (200, "member")
    assert client.post("/rooms/lobby/join").json()["role"] == "member"  # joining twice is harmless
    left = client.post("/rooms/lobby/leave")
    assert (left.status_code, left.json()["role"]) == (200, None)
    assert not Membership.objects.filter(user=alice).exists()
    assert client.post("/rooms/lobby/leave").status_code == 200  # leaving twice too


def test_the_only_owner_cannot_leave(api_as, alice):
    client = api_as(alice)
    client.post("/rooms", {"slug": "mine", "private": True})
    response = client.post("/rooms/mine/leave")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "only owner" in response.json()["detail"]
    assert Membership.objects.filter(user=alice, room__slug="mine").exists()


def test_post_a_message_answers_201_with_seq_and_id(make_room, api_as, alice):
    make_room("lobby")
    response = api_as(alice).post("/rooms/lobby/messages", {"body": "hello"})
    assert response.status_code == 201
    data = response.json()
    stored = Message.objects.get()
    assert data == {
        "room": "lobby",
        "seq": 1,
        "id": stored.pk,
        "author": {"id": alice.pk, "name": "alice", "guest": False},
        "body": "hello",
        "created_at": data["created_at"],
        "client_id": stored.client_id,
        "edited_at": None,
        "deleted": False,
        "reactions": {},
        "mine": [],
        "reply_to": None,
        "thread_count": 0,
        "attachments": [],
    }


def test_idempotency_key_makes_a_retry_store_nothing(make_room, api_as, alice):
    make_room("lobby")
    client = api_as(alice)
    first = client.post("/rooms/lobby/messages", {"body": "once"}, headers={"Idempotency-Key": "key-1"})
    again = client.post("/rooms/lobby/messages", {"body": "once"}, headers={"Idempotency-Key": "key-1"})
    other = client.post("/rooms/lobby/messages", {"body": "twice"}, headers={"Idempotency-Key": "key-2"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json() == first.json()
    assert first.json()["client_id"] == "key-1"
    assert list(Message.objects.values_list("seq", "client_id")) == [(1, "key-1"), (2, "key-2")]
    assert Room.objects.get(slug="lobby").last_seq == 2


def test_the_same_key_from_another_sender_is_another_message(make_user, make_room, api_as, alice):
    make_room("lobby")
    api_as(alice).post("/rooms/lobby/messages", {"body": "a"}, headers={"Idempotency-Key": "k"})
    response = api_as(make_user("bob")).post("/rooms/lobby/messages", {"body": "b"}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 201
    assert Message.objects.count() == 2


def test_without_a_key_every_post_is_a_new_message(make_room, api_as, alice):
    make_room("lobby")
    client = api_as(alice)
    assert [client.post("/rooms/lobby/messages", {"body": "x"}).status_code for _ in range(2)] == [201, 201]
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "status", "code", "detail"),
    [
        ("   ", 400, "invalid", "Field 'body' of the JSON body must not be blank"),
        ("a\x00b", 400, "invalid", "Field 'body' of the JSON body must not be blank, nor contain control"),
        ("x" * 4001, 413, "too_large", "The message is 4001 characters long; the limit is 4000."),
    ],
)
def test_bad_bodies_are_refused_and_nothing_is_stored(make_room, api_as, alice, body, status, code, detail):
    make_room("lobby")
    response = api_as(alice).post("/rooms/lobby/messages", {"body": body})
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.json()["detail"].startswith(detail)
    assert not Message.objects.exists()


def test_a_bad_idempotency_key_is_refused(make_room, api_as, alice):
    make_room("lobby")
    response = api_as(alice).post("/rooms/lobby/messages", {"body": "x"}, headers={"Idempotency-Key": "k" * 65})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert not Message.objects.exists()


@pytest.fixture
def five_messages(make_room, alice):
    room = make_room("lobby")
    for i in range(1, 6):
        message_post(room=room, sender=user_identity(alice), body=f"m{i}", client_id=f"c{i}")
    return room


@pytest.mark.parametrize(
    ("query", "seqs"),
    [
        ({}, [1, 2, 3, 4, 5]),
        ({"limit": 2}, [4, 5]),
        ({"before": 4, "limit": 2}, [2, 3]),
        ({"after": 2}, [3, 4, 5]),
        ({"after": 1, "limit": 2}, [2, 3]),
        ({"after": 1, "before": 4}, [2, 3]),
        ({"after": 5}, []),
    ],
)
def test_message_pages(five_messages, api_as, alice, query, seqs):
    response = api_as(alice).get("/rooms/lobby/messages", **query)
    assert response.status_code == 200
    assert response.json()["head"] == 5
    assert [m["seq"] for m in response.json()["messages"]] == seqs


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"before": -1}, {"after": "x"}])
def test_bad_page_parameters_are_refused(five_messages, api_as, alice, query):
    response = api_as(alice).get("/rooms/lobby/messages", **query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"].startswith("Query parameter ")


@pytest.mark.parametrize("slug", ["dm-1-2", "DM-1-2", "dM-1-2"])
def test_a_slug_kept_for_direct_messages_is_refused_with_a_sentence(api_as, alice, slug):
    response = api_as(alice).post("/rooms", {"slug": slug})
    assert response.status_code == 400
    assert "kept for direct messages" in response.json()["detail"]
    assert not Room.objects.exists()
