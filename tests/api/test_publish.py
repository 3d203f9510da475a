"""POST /api/publish: staff-only server-side publish of messages and notifications, all or nothing."""

from __future__ import annotations

import pytest

from parley.notifications.models import Notification
from parley.rooms.models import Message, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    return make_user("ops", staff=True)


def test_a_message_to_rooms_and_a_notification_to_users_in_one_call(make_user, make_room, api_as, staff):
    alice = make_user("alice")
    make_user("bob")
    make_room("lobby")
    make_room("vault", is_private=True, members=[alice])
    response = api_as(staff).post(
        "/publish",
        {
            "rooms": ["lobby", "vault"],
            "message": {"body": "deploy done"},
            "users": ["alice", "bob"],
            "notification": {"kind": "order.status", "data": {"order_id": 7, "status": "shipped"}},
        },
    )
    assert response.status_code == 201
    body = response.json()
    messages = {m.room.slug: m for m in Message.objects.select_related("room", "author")}
    assert body["messages"] == [
        {"room": "lobby", "id": messages["lobby"].pk, "seq": 1, "created": True},
        {"room": "vault", "id": messages["vault"].pk, "seq": 1, "created": True},
    ]
    assert {m.author for m in messages.values()} == {staff}  # the author is the token's user
    notifications = {n.recipient.username: n for n in Notification.objects.select_related("recipient")}
    assert body["notifications"] == [
        {"user": "alice", "id": notifications["alice"].pk},
        {"user": "bob", "id": notifications["bob"].pk},
    ]
    assert notifications["bob"].data == {"order_id": 7, "status": "shipped"}


def test_only_rooms_or_only_users(make_user, make_room, api_as, staff):
    make_user("alice")
    make_room("lobby")
    client = api_as(staff)
    assert client.post("/publish", {"rooms": ["lobby"], "message": {"body": "x"}}).json()["notifications"] == []
    notified = client.post("/publish", {"users": ["alice"], "notification": {"kind": "k"}})
    assert (notified.status_code, notified.json()["messages"]) == (201, [])
    assert Notification.objects.get().data == {}


def test_an_unknown_room_stores_nothing_at_all(make_user, make_room, api_as, staff):
    make_user("alice")
    make_room("lobby")
    response = api_as(staff).post(
        "/publish",
        {
            "rooms": ["lobby", "nowhere"],
            "message": {"body": "x"},
            "users": ["alice"],
            "notification": {"kind": "k", "data": {}},
        },
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "'nowhere'" in response.json()["detail"]
    assert not Message.objects.exists()
    assert not Notification.objects.exists()
    assert Room.objects.get(slug="lobby").last_seq == 0


def test_an_unknown_user_stores_nothing_at_all(make_user, make_room, api_as, staff):
    make_user("alice")
    make_room("lobby")
    response = api_as(staff).post(
        "/publish",
        {"rooms": ["lobby"], "message": {"body": "x"}, "users": ["alice", "ghost"], "notification": {"kind": "k"}},
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no active user 'ghost'; nothing was published."
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


def test_idempotency_key_covers_the_message_part(make_room, api_as, staff):
    make_room("lobby")
    client = api_as(staff)
    payload = {"rooms": ["lobby"], "message": {"body": "once"}}
    first = client.post("/publish", payload, headers={"Idempotency-Key": "deploy-42"})
    again = client.post("/publish", payload, headers={"Idempotency-Key": "deploy-42"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["messages"] == [{**first.json()["messages"][0], "created": False}]
    assert Message.objects.count() == 1


def test_non_staff_cannot_publish(make_user, make_room, api_as):
    make_room("lobby")
    response = api_as(make_user("alice")).post("/publish", {"rooms": ["lobby"], "message": {"body": "x"}})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Message.objects.exists()


def test_a_staff_session_may_publish(make_user, make_room, client):
    make_room("lobby")
    client.force_login(make_user("ops", staff=True))
    response = client.post(
        "/api/publish", {"rooms": ["lobby"], "message": {"body": "x"}}, content_type="application/json"
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("payload", "status", "detail"),
    [
        ({}, 400, "Give 'rooms' with a 'message', 'users' with a 'notification', or both."),
        ({"rooms": ["lobby"]}, 400, "Give 'rooms' and 'message' together (or neither)."),
        ({"users": ["alice"]}, 400, "Give 'users' and 'notification' together (or neither)."),
        ({"rooms": ["lobby"], "message": {"body": " "}}, 400, None),
        ({"users": ["alice"], "notification": {"kind": "k", "data": {"a": "\x00"}}}, 400, None),
        ({"rooms": ["lobby"], "message": {"body": "x" * 4001}}, 413, None),
        ({"users": ["alice"], "notification": {"kind": ""}}, 400, None),
        ({"users": ["alice"], "notification": {"kind": "k", "data": [1]}}, 400, None),
        ({"rooms": ["not a slug"], "message": {"body": "x"}}, 400, None),
        (
            {
                "rooms": ["lobby"],
                "message": {"body": "x"},
                "users": ["alice"],
                "notification": {"kind": "k", "data": {"url": "//evil.example"}},
            },
            400,
            "A notification's data.url must be a path on this site starting with a single '/', such as "
            "'/orders/7/' (PARLEY_NOTIFICATION_URL_ORIGINS may allow other sites).",
        ),
    ],
)
def test_bad_publish_calls_are_refused_and_store_nothing(make_user, make_room, api_as, staff, payload, status, detail):
    make_user("alice")
    make_room("lobby")
    response = api_as(staff).post("/publish", payload)
    assert response.status_code == status, response.json()
    assert response.json()["code"] == ("too_large" if status == 413 else "invalid")
    if detail is not None:
        assert response.json()["detail"] == detail
    assert not Message.objects.exists()
    assert not Notification.objects.exists()
