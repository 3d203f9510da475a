"""The /search/ page: the same hits as the API, with the matches marked by the template."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from parley.accounts.identity import user_identity
from parley.rooms.services import membership_join, message_post

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_hits_are_marked_and_everything_else_is_escaped(make_user, make_room) -> None:
    alice = make_user("alice")
    room = make_room("general")
    message_post(room=room, sender=user_identity(alice), body="<script>x()</script> fig jam", client_id="c1")
    page = signed_in(alice).get("/search/", {"q": "fig"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<mark>fig</mark>" in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "<script>x()" not in html
    assert 'href="/chat/general/#seq-1"' in html


def test_a_room_you_cannot_read_is_not_searched(make_user, make_room) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    secret = make_room("secret", is_private=True)
    membership_join(room=secret, user=alice)
    message_post(room=secret, sender=user_identity(alice), body="hidden olive", client_id=uuid.uuid4().hex)
    assert "<mark>" not in signed_in(bob).get("/search/", {"q": "olive"}).content.decode()
    assert signed_in(bob).get("/search/", {"q": "olive", "room": "secret"}).status_code == 404
    assert "<mark>olive</mark>" in signed_in(alice).get("/search/", {"q": "olive", "room": "secret"}).content.decode()


def test_bad_input_is_answered_on_the_page(make_user) -> None:
    client = signed_in(make_user("alice"))
    assert client.get("/search/").status_code == 200
    assert client.get("/search/", {"q": "x" * 201}).status_code == 400
    assert client.get("/search/", {"q": "x", "room": "no/such"}).status_code == 400


def test_search_needs_a_signed_in_user() -> None:
    response = Client().get("/search/", {"q": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
