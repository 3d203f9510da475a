"""GET /api/search over HTTP, with bearer tokens."""

from __future__ import annotations

import uuid

import pytest

from parley.accounts.identity import user_identity
from parley.rooms.services import membership_join, message_post

pytestmark = pytest.mark.django_db


def say(room, user, body):
    return message_post(room=room, sender=user_identity(user), body=body, client_id=uuid.uuid4().hex).message


def test_search_answers_hits_with_highlight_segments(api_as, make_user, make_room) -> None:
    alice = make_user("alice")
    room = make_room("general")
    say(room, alice, "Where is the <b>retro</b> doc?")
    response = api_as(alice).get("/search", q="  retro ")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["query"] == "retro"
    assert body["room"] is None
    [hit] = body["hits"]
    assert hit["room"] == "general"
    assert hit["seq"] == 1
    assert hit["body"] == "Where is the <b>retro</b> doc?"
    assert {"text": "retro", "match": True} in hit["highlight"]
    assert "".join(segment["text"] for segment in hit["highlight"]) == hit["body"]


def test_search_leaves_out_rooms_you_cannot_read_and_hides_them(api_as, make_user, make_room) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    secret = make_room("secret", is_private=True)
    membership_join(room=secret, user=alice)
    say(secret, alice, "secret pistachio")
    assert api_as(bob).get("/search", q="pistachio").json()["hits"] == []
    response = api_as(bob).get("/search", q="pistachio", room="secret")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert len(api_as(alice).get("/search", q="pistachio", room="secret").json()["hits"]) == 1


@pytest.mark.parametrize(("q", "says"), [("", "'q'"), ("   ", "must not be blank"), ("x" * 201, "200 characters")])
def test_empty_or_long_queries_are_invalid(api_as, make_user, q, says) -> None:
    response = api_as(make_user("alice")).get("/search", q=q)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert says in response.json()["detail"]


def test_fts_syntax_is_just_text(api_as, make_user, make_room) -> None:
    alice = make_user("alice")
    say(make_room("general"), alice, 'the "quoted" word')
    for q in ['"quoted', "quoted*", "(quoted", "quoted)", "quoted:"]:
        response = api_as(alice).get("/search", q=q)
        assert response.status_code == 200, q
        assert len(response.json()["hits"]) == 1, q


def test_search_needs_a_user(api_as) -> None:
    assert api_as(None).get("/search", q="x").status_code == 401
