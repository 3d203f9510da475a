"""Exports: a room's history for its owners and staff, everything about a person, streamed batch by batch."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext

from parley.accounts.identity import user_identity
from parley.exports import archive, rooms
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


def test_under_asgi_the_archive_is_read_while_it_is_sent_in_bounded_pieces(owned, token_for, monkeypatch):
    """What keeps a big export's memory flat: under ASGI each piece is sent as it is read, a piece
    is about PIECE_BYTES (not a batch of rows, nor text at four bytes a character), and the rows
    are read batch by batch between pieces sent."""
    alice, room = owned
    me = user_identity(alice)
    for n in range(60):
        message_post(room=room, sender=me, body=f"message {n} 🎉 " + "x" * 200, client_id=f"c{n}")
    monkeypatch.setattr(archive, "BATCH", 10)
    monkeypatch.setattr(archive, "PIECE_BYTES", 1024)
    received: list[bytes] = []
    received_at_batch: list[int] = []
    read_batches = rooms.batches

    def counted_batches(*args, **kwargs):
        for batch in read_batches(*args, **kwargs):
            received_at_batch.append(len(received))
            yield batch

    monkeypatch.setattr(rooms, "batches", counted_batches)

    async def download() -> None:
        response = await AsyncClient().get("/api/rooms/lobby/export", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.is_async
        async for piece in response.streaming_content:
            received.append(piece)

    token = token_for(alice)
    # async_to_sync runs the view's database work back in this thread, on the test's connection.
    async_to_sync(download)()
    document = json.loads(b"".join(received))
    assert [m["seq"] for m in document["messages"]] == list(range(1, 61))
    longest = max(len(archive.dumps(message)) for message in document["messages"])
    assert len(received) > 10
    # A piece ends once it passes PIECE_BYTES; a read takes small pieces together up to that size too.
    assert max(len(piece) for piece in received) <= 2 * 1024 + longest + 2
    # Six batches of ten, each read only once the pieces before it were sent.
    assert len(received_at_batch) == 6
    assert received_at_batch == sorted(set(received_at_batch))
    assert received_at_batch[-1] >= 5
