"""/api/rooms/{slug}/messages/{seq}…: edit, delete, reactions and the moderators' edit history."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from parley.accounts.identity import user_identity
from parley.rooms.models import Membership, Message, Reaction
from parley.rooms.services import message_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    make_room("lobby")
    return alice, bob


def post(user, body="hello", room="lobby"):
    from parley.rooms.models import Room

    return message_post(room=Room.objects.get(slug=room), sender=user_identity(user), body=body, client_id=body).message


def patch(client, path, data):
    return client.client.patch(f"/api{path}", data, content_type="application/json", headers=client.headers)


def put(client, path):
    return client.client.put(f"/api{path}", headers=client.headers)


def test_edit_your_message(chat, api_as):
    alice, _ = chat
    message = post(alice)
    response = patch(api_as(alice), "/rooms/lobby/messages/1", {"body": "hello, edited"})
    assert response.status_code == 200
    data = response.json()
    assert (data["seq"], data["body"], data["deleted"], data["edited_at"] is not None) == (
        1,
        "hello, edited",
        False,
        True,
    )
    assert Message.objects.get(pk=message.pk).body == "hello, edited"


def test_edit_someone_elses_or_a_missing_message_is_refused(chat, api_as):
    alice, bob = chat
    post(alice)
    refused = patch(api_as(bob), "/rooms/lobby/messages/1", {"body": "mine"})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    missing = patch(api_as(alice), "/rooms/lobby/messages/7", {"body": "x"})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    blank = patch(api_as(alice), "/rooms/lobby/messages/1", {"body": " "})
    assert blank.status_code == 400
    assert Message.objects.get().body == "hello"


def test_delete_keeps_the_seq_and_hides_the_body(chat, api_as):
    alice, bob = chat
    post(alice, "secret")
    assert api_as(bob).delete("/rooms/lobby/messages/1").status_code == 403
    response = api_as(alice).delete("/rooms/lobby/messages/1")
    assert response.status_code == 200
    assert (response.json()["body"], response.json()["deleted"]) == ("", True)
    page = api_as(bob).get("/rooms/lobby/messages").json()["messages"]
    assert [(m["seq"], m["body"], m["deleted"]) for m in page] == [(1, "", True)]


def test_a_room_owner_deletes_anyones_message_and_reads_the_history(chat, make_user, api_as):
    alice, _ = chat
    owner = make_user("olga")
    from parley.rooms.models import Room

    Membership.objects.create(room=Room.objects.get(slug="lobby"), user=owner, role=Membership.Role.OWNER)
    post(alice, "first")
    assert patch(api_as(alice), "/rooms/lobby/messages/1", {"body": "second"}).status_code == 200
    assert api_as(owner).delete("/rooms/lobby/messages/1").status_code == 200
    assert api_as(alice).get("/rooms/lobby/messages/1/edits").status_code == 403
    history = api_as(owner).get("/rooms/lobby/messages/1/edits").json()
    assert [(h["action"], h["previous_body"], h["edited_by"]["name"]) for h in history] == [
        ("edit", "first", "alice"),
        ("delete", "second", "olga"),
    ]


def test_reactions_put_and_delete(chat, api_as):
    alice, bob = chat
    post(alice)
    path = "/rooms/lobby/messages/1/reactions/" + quote("👍")
    assert put(api_as(alice), path).json() == {"room": "lobby", "seq": 1, "counts": {"👍": 1}, "mine": ["👍"]}
    assert put(api_as(bob), path).json() == {"room": "lobby", "seq": 1, "counts": {"👍": 2}, "mine": ["👍"]}
    assert put(api_as(bob), path).json()["counts"] == {"👍": 2}
    page = api_as(alice).get("/rooms/lobby/messages").json()["messages"]
    assert (page[0]["reactions"], page[0]["mine"]) == ({"👍": 2}, ["👍"])
    assert api_as(bob).delete(path).json() == {"room": "lobby", "seq": 1, "counts": {"👍": 1}, "mine": []}
    assert Reaction.objects.count() == 1


@pytest.mark.parametrize("emoji", ["ok", "%20%F0%9F%91%8D", "%F0%9F%91%8D" * 17])
def test_bad_emoji_are_refused(chat, api_as, emoji):
    alice, _ = chat
    post(alice)
    response = put(api_as(alice), f"/rooms/lobby/messages/1/reactions/{emoji}")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert not Reaction.objects.exists()
