"""/api/tokens: create (secret shown once), list and revoke my own."""

from __future__ import annotations

import pytest

from parley.accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_create_list_and_revoke(make_user, api_as):
    alice = make_user("alice")
    client = api_as(alice)
    created = client.post("/tokens", {"name": "deploy bot"})
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
    bobs = api_as(bob).post("/tokens", {}).json()
    response = api_as(alice).delete(f"/tokens/{bobs['id']}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert ApiToken.objects.get(pk=bobs["id"]).is_active
    assert [t["id"] for t in api_as(alice).get("/tokens").json()] != [bobs["id"]]


def test_a_long_name_is_refused(make_user, api_as):
    response = api_as(make_user("alice")).post("/tokens", {"name": "n" * 101})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Field 'name' of the JSON body")
