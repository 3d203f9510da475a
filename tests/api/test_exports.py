"""Exports: a room's history for its owners and staff, everything about a person, streamed batch by batch."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parley.accounts.identity import user_identity
from parley.exports import archive
from parley.rooms.models import Membership
from parley.rooms.services import message_edit, message_post, reaction_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(make_room, make_user):
    alice = make_user("alice")
    room = make_room("lobby")
    Membership.objects.create(room=room, user=alice, role="owner")
    return alice, room


def test_an_owner_downloads_the_room_streamed(owned, make_user, api_as, monkeypatch):
    alice, room = owned
    me = user_identity(alice)
    for n in range(7):
        message_post(room=room, sender=me, body=f"message {n}", client_id=f"c{n}")
    message_edit(room=room, editor=me, seq=2, body="edited")
    reaction_set(room=room, user=me, seq=3, emoji="👍", on=True)
    monkeypatch.setattr(archive, "BATCH", 3)
    browser = Client()
    browser.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/api/rooms/lobby/export")
        assert response.streaming
        before_reading = len(queries)
        pieces = [piece.decode() for piece in response.streaming_content]
    # The rows are read while the body is sent, in batches of BATCH messages: nothing before.
    assert len(queries) - before_reading >= 3 * 3
    assert len(pieces) > 3
    assert response["Content-Disposition"].startswith('attachment; filename="parley-lobby-')
    document = json.loads("".join(pieces))
    assert document["format"] == "parley.room-archive"
    assert [m["seq"] for m in document["messages"]] == list(range(1, 8))
    assert document["messages"][1]["edits"][0]["previous_body"] == "message 1"
    assert document["messages"][2]["reactions"][0]["emoji"] == "👍"
    assert document["members"] == [
        {"id": alice.pk, "name": "alice", "role": "owner", "joined_at": document["members"][0]["joined_at"]}
    ]


def test_only_owners_and_staff_export_a_room(owned, make_user, api_as):
    _, room = owned
    bob = make_user("bob")
    Membership.objects.create(room=room, user=bob, role="moderator")
    assert api_as(bob).get("/rooms/lobby/export").status_code == 403
    assert Client().get("/api/rooms/lobby/export").status_code == 401
    staff = make_user("staff", staff=True)
    assert api_as(staff).get("/rooms/lobby/export").status_code == 200


def test_a_person_downloads_what_parley_holds_about_them(owned, make_user, api_as):
    alice, room = owned
    message_post(room=room, sender=user_identity(alice), body="mine", client_id="c1")
    message_post(room=room, sender=user_identity(make_user("bob")), body="not mine", client_id="c1")
    response = api_as(alice).get("/me/export")
    document = json.loads(b"".join(response.streaming_content))
    assert document["account"]["username"] == "alice"
    assert [m["body"] for m in document["messages"]] == ["mine"]
    assert document["memberships"][0]["room"] == "lobby"
    assert len(document["api_tokens"]) == 1
    assert "digest" not in json.dumps(document["api_tokens"])
