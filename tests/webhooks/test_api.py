"""POST/GET /api/rooms/{slug}/webhooks: the room's owners and staff only, clear errors otherwise."""

from __future__ import annotations

import pytest
from django.test import Client

from parley.accounts.services import token_issue
from parley.rooms.models import Membership, Room
from parley.rooms.services import room_get_or_create
from parley.webhooks.models import Webhook

pytestmark = pytest.mark.django_db

SECRET = "0123456789abcdef-secret"


def call(user, method: str, path: str, body: dict | None = None):
    token = token_issue(user=user, name="tests").secret
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    if method == "post":
        return client.post(f"/api{path}", body, content_type="application/json", headers=headers)
    return client.get(f"/api{path}", headers=headers)


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def room(alice) -> Room:
    return room_get_or_create(slug="shop", creator=alice).room


def test_the_owner_registers_a_webhook_and_lists_it_without_the_secret(alice, room):
    response = call(alice, "post", "/rooms/shop/webhooks", {"url": "https://example.com/hook", "secret": SECRET})
    assert response.status_code == 201, response.content
    created = response.json()
    assert {k: created[k] for k in ("room", "url", "active")} == {
        "room": "shop",
        "url": "https://example.com/hook",
        "active": True,
    }
    listed = call(alice, "get", "/rooms/shop/webhooks").json()
    assert [hook["id"] for hook in listed] == [created["id"]]
    assert all("secret" not in hook for hook in listed)
    assert Room.objects.get(pk=room.pk).has_webhooks


def test_a_member_who_is_not_an_owner_gets_403_and_nothing_is_stored(make_user, room):
    bob = make_user("bob")
    Membership.objects.create(room=room, user=bob)
    response = call(bob, "post", "/rooms/shop/webhooks", {"url": "https://example.com/hook", "secret": SECRET})
    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "detail": "Only an owner of room 'shop' or staff can manage its webhooks.",
    }
    assert call(bob, "get", "/rooms/shop/webhooks").status_code == 403
    assert not Webhook.objects.exists()


def test_staff_may_register_webhooks(make_user, room):
    response = call(
        make_user("boss", staff=True), "post", "/rooms/shop/webhooks", {"url": "http://x.example/", "secret": SECRET}
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"url": "javascript:alert(1)", "secret": SECRET}, "Field 'url' of the JSON body"),
        ({"url": "https://example.com/", "secret": "short"}, "Field 'secret' of the JSON body"),
    ],
)
def test_bad_input_gets_a_400_that_says_what_to_change(alice, room, body, detail):
    response = call(alice, "post", "/rooms/shop/webhooks", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"].startswith(detail)
    assert not Webhook.objects.exists()


def test_an_unknown_room_is_404(alice):
    response = call(alice, "post", "/rooms/nowhere/webhooks", {"url": "https://example.com/", "secret": SECRET})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
