"""/api/rooms/{slug}/webhooks[/{id}]: register, list, pause, resume and delete; the room's current owners
and staff only, whoever registered the webhook; clear JSON errors otherwise."""

from __future__ import annotations

import pytest
from django.test import Client

from parley.accounts.services import token_issue
from parley.rooms.models import Membership, Room
from parley.rooms.services import room_get_or_create
from parley.webhooks.models import Webhook
from tests.webhooks.test_addresses import INTERNAL_URLS

pytestmark = pytest.mark.django_db

SECRET = "0123456789abcdef-secret"


def call(user, method: str, path: str, body: dict | None = None):
    token = token_issue(user=user, name="tests").secret
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    if method in ("post", "patch"):
        send = client.post if method == "post" else client.patch
        return send(f"/api{path}", body, content_type="application/json", headers=headers)
    if method == "delete":
        return client.delete(f"/api{path}", headers=headers)
    return client.get(f"/api{path}", headers=headers)


def test_the_owner_registers_a_webhook_and_lists_it_without_the_secret(alice, room):
    response = call(alice, "post", "/rooms/shop/webhooks", {"url": "https://example.com/hook", "secret": SECRET})
    assert response.status_code == 201, response.content
    created = response.json()
    assert {k: created[k] for k in ("room", "url", "active", "status", "stopped_reason", "created_by")} == {
        "room": "shop",
        "url": "https://example.com/hook",
        "active": True,
        "status": "active",
        "stopped_reason": "",
        "created_by": "alice",
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


@pytest.mark.parametrize(
    ("url", "refusal"), [(url, refusal) for url, refusal in INTERNAL_URLS if url.startswith("http")]
)
def test_an_internal_receiver_is_refused_with_400_saying_why(alice, room, url, refusal):
    response = call(alice, "post", "/rooms/shop/webhooks", {"url": url, "secret": SECRET})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert refusal in response.json()["detail"]
    assert not Webhook.objects.exists()


def test_a_room_takes_a_bounded_number_of_webhooks(alice, room, settings):
    settings.PARLEY = {**settings.PARLEY, "WEBHOOKS_PER_ROOM": 2}
    for n in range(2):
        created = call(alice, "post", "/rooms/shop/webhooks", {"url": f"https://e.example/{n}", "secret": SECRET})
        assert created.status_code == 201
    response = call(alice, "post", "/rooms/shop/webhooks", {"url": "https://e.example/3", "secret": SECRET})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "Room 'shop' already has 2 webhooks, the most a room may have; delete one it no longer needs first.",
    }


@pytest.fixture
def hook(alice, room) -> Webhook:
    response = call(alice, "post", "/rooms/shop/webhooks", {"url": "https://example.com/hook", "secret": SECRET})
    return Webhook.objects.get(pk=response.json()["id"])


@pytest.fixture
def carol(make_user, room):
    """An owner of the room who did not register the webhook."""
    carol = make_user("carol")
    Membership.objects.create(room=room, user=carol, role=Membership.Role.OWNER)
    return carol


def test_another_owner_sees_pauses_resumes_and_deletes_a_webhook(carol, hook):
    path = f"/rooms/shop/webhooks/{hook.pk}"
    assert [h["id"] for h in call(carol, "get", "/rooms/shop/webhooks").json()] == [hook.pk]
    assert call(carol, "get", path).json()["status"] == "active"

    paused = call(carol, "patch", path, {"active": False})
    assert paused.status_code == 200, paused.content
    assert (paused.json()["active"], paused.json()["status"]) == (False, "paused")
    assert not Room.objects.get(slug="shop").has_webhooks

    resumed = call(carol, "patch", path, {"active": True})
    assert (resumed.json()["active"], resumed.json()["status"]) == (True, "active")
    assert Room.objects.get(slug="shop").has_webhooks

    deleted = call(carol, "delete", path)
    assert deleted.status_code == 204
    assert not Webhook.objects.exists()
    assert not Room.objects.get(slug="shop").has_webhooks


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_an_unknown_webhook_is_a_json_404(alice, room, hook, make_user, method):
    other = room_get_or_create(slug="other", creator=alice).room
    for path in ("/rooms/shop/webhooks/999999", f"/rooms/{other.slug}/webhooks/{hook.pk}"):
        response = call(alice, method, path, {"active": False})
        assert response.status_code == 404, response.content
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response.json()["code"] == "not_found"
    assert call(alice, method, "/rooms/shop/webhooks/999999", {"active": False}).json()["detail"] == (
        "Room 'shop' has no webhook 999999."
    )
    assert Webhook.objects.get(pk=hook.pk).active


@pytest.mark.parametrize(("method", "body"), [("get", None), ("patch", {"active": False}), ("delete", None)])
def test_a_member_who_is_not_an_owner_cannot_manage_a_webhook(make_user, room, hook, method, body):
    bob = make_user("bob")
    Membership.objects.create(room=room, user=bob)
    response = call(bob, method, f"/rooms/shop/webhooks/{hook.pk}", body)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert Webhook.objects.get(pk=hook.pk).active


def test_staff_delete_a_webhook(make_user, hook):
    assert call(make_user("boss", staff=True), "delete", f"/rooms/shop/webhooks/{hook.pk}").status_code == 204
    assert not Webhook.objects.exists()


def test_an_owner_who_created_a_webhook_but_no_longer_owns_the_room_cannot_manage_it(alice, carol, room, hook):
    Membership.objects.filter(room=room, user=alice).update(role=Membership.Role.MEMBER)
    assert call(alice, "delete", f"/rooms/shop/webhooks/{hook.pk}").status_code == 403
    assert call(carol, "delete", f"/rooms/shop/webhooks/{hook.pk}").status_code == 204
