"""/api/tokens: create (secret shown once, from a session only), list and revoke my own."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from parley.accounts.models import ApiToken
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def signed_in(user) -> ApiClient:
    """An ``ApiClient`` on ``user``'s browser session, with no token."""
    client = Client()
    client.force_login(user)
    return ApiClient(client=client)


def test_create_list_and_revoke(make_user, api_as):
    alice = make_user("alice")
    client = api_as(alice)
    created = signed_in(alice).post("/tokens", {"name": "deploy bot"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("parley_")
    assert created.json()["active"] is True
    listed = client.get("/tokens").json()
    assert [t["name"] for t in listed] == ["deploy bot", ""]  # the new one, then the client's own
    assert all("secret" not in t for t in listed)

    new_client = type(client)(secret)
    assert new_client.get("/rooms").status_code == 200
    revoked = client.delete(f"/tokens/{created.json()['id']}")
    assert (revoked.status_code, revoked.json()["active"]) == (200, False)
    assert revoked.json()["revoked_at"] is not None
    assert new_client.get("/rooms").status_code == 401
    assert client.delete(f"/tokens/{created.json()['id']}").status_code == 200  # twice is harmless


def test_another_users_token_cannot_be_revoked(make_user, api_as):
    alice, bob = make_user("alice"), make_user("bob")
    bobs = signed_in(bob).post("/tokens", {}).json()
    response = api_as(alice).delete(f"/tokens/{bobs['id']}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert ApiToken.objects.get(pk=bobs["id"]).is_active
    assert [t["id"] for t in api_as(alice).get("/tokens").json()] != [bobs["id"]]


def test_a_long_name_is_refused(make_user, api_as):
    response = signed_in(make_user("alice")).post("/tokens", {"name": "n" * 101})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Field 'name' of the JSON body")


def test_a_token_cannot_mint_tokens(make_user, api_as):
    alice = make_user("alice")
    client = api_as(alice)
    response = client.post("/tokens", {"name": "escape hatch"})
    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "detail": "A token cannot mint tokens: create tokens from a signed-in session (the session cookie with "
        "X-CSRFToken, as /api/docs does in a signed-in browser) or with 'manage.py issuetoken'.",
    }
    assert ApiToken.objects.filter(user=alice).count() == 1  # the client's own, nothing new
    # The token still lists and revokes, itself included.
    assert client.get("/tokens").status_code == 200


def test_a_token_with_a_session_cookie_still_cannot_mint(make_user, token_for):
    alice = make_user("alice")
    session = Client()
    session.force_login(alice)
    response = ApiClient(token_for(alice), client=session).post("/tokens", {})
    assert response.status_code == 403


def test_issuetoken_still_mints(make_user, capsys):
    alice = make_user("alice")
    call_command("issuetoken", "alice")
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiClient(secret).get("/tokens").status_code == 200
    assert ApiToken.objects.filter(user=alice).count() == 1
