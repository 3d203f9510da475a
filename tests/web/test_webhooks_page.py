"""The room settings page's webhooks panel: the room's owners (whoever registered each webhook) see
every webhook with its status, and why it stopped; they add, pause, resume and delete them through
forms with CSRF tokens, on a page with no inline script or style."""

from __future__ import annotations

import pytest
from django.test import Client

from parley.accounts.identity import user_identity
from parley.rooms.models import Membership, Room
from parley.rooms.services import room_get_or_create
from parley.webhooks.models import Webhook
from parley.webhooks.services import webhook_create, webhook_stop
from tests.security.test_http_pages import PageScan

pytestmark = pytest.mark.django_db

SECRET = "a-receivers-shared-secret-42"


@pytest.fixture
def room(make_user) -> Room:
    alice = make_user("alice")
    room = room_get_or_create(slug="shop", creator=alice).room
    webhook_create(room=room, identity=user_identity(alice), url="https://hooks.example/in", secret=SECRET)
    return room


@pytest.fixture
def carol(make_user, room) -> Client:
    """Signed in as carol, an owner of the room who did not register its webhook."""
    carol = make_user("carol")
    Membership.objects.create(room=room, user=carol, role=Membership.Role.OWNER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(carol)
    return client


def csrf_post(client: Client, path: str, data: dict[str, str]):
    page = client.get("/chat/shop/settings/").content.decode()
    marker = 'name="csrfmiddlewaretoken" value="'
    token = page[page.index(marker) + len(marker) :].split('"', 1)[0]
    return client.post(path, {**data, "csrfmiddlewaretoken": token}, follow=True)


def test_an_owner_sees_the_rooms_webhooks_with_their_status(carol):
    webhook = Webhook.objects.get()
    response = carol.get("/chat/shop/settings/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-labelledby="webhooks-title"' in html
    assert "https://hooks.example/in" in html
    assert ">active<" in html
    assert "added by alice" in html
    assert f'action="/chat/shop/settings/webhooks/{webhook.pk}/"' in html
    assert SECRET not in html
    scan = PageScan()
    scan.feed(html)
    assert scan.problems == []


def test_a_stopped_webhook_says_why(carol):
    webhook_stop(webhook_id=Webhook.objects.get().pk, reason="its creator alice is banned from #shop")
    html = carol.get("/chat/shop/settings/").content.decode()
    assert "stopped: its creator alice is banned from #shop" in html
    assert '<input type="hidden" name="action" value="resume">' in html


def test_a_moderator_who_is_not_an_owner_sees_no_webhooks_and_cannot_change_them(make_user, room):
    mod = make_user("mod")
    Membership.objects.create(room=room, user=mod, role=Membership.Role.MODERATOR)
    client = Client()
    client.force_login(mod)
    html = client.get("/chat/shop/settings/").content.decode()
    assert "hooks.example" not in html
    webhook = Webhook.objects.get()
    response = client.post(f"/chat/shop/settings/webhooks/{webhook.pk}/", {"action": "delete"}, follow=True)
    assert "Only an owner of room &#x27;shop&#x27; or staff can manage its webhooks." in response.content.decode()
    assert Webhook.objects.filter(pk=webhook.pk).exists()


def test_an_owner_pauses_resumes_and_deletes_a_webhook(carol):
    webhook = Webhook.objects.get()
    path = f"/chat/shop/settings/webhooks/{webhook.pk}/"
    assert carol.post(path, {"action": "pause"}).status_code == 403  # no CSRF token

    page = csrf_post(carol, path, {"action": "pause"}).content.decode()
    assert "The webhook to https://hooks.example/in is paused." in page
    assert ">paused<" in page
    assert not Webhook.objects.get().active
    assert not Room.objects.get(slug="shop").has_webhooks

    csrf_post(carol, path, {"action": "resume"})
    assert Webhook.objects.get().active

    page = csrf_post(carol, path, {"action": "delete"}).content.decode()
    assert "The webhook to https://hooks.example/in is deleted." in page
    assert not Webhook.objects.exists()
    assert "No webhooks." in page


def test_an_owner_adds_a_webhook_and_an_internal_one_is_refused_with_the_reason(carol):
    page = csrf_post(carol, "/chat/shop/settings/webhooks/", {"url": "http://169.254.169.254/", "secret": SECRET})
    assert "169.254.169.254 is a link-local address" in page.content.decode()
    assert Webhook.objects.count() == 1

    page = csrf_post(carol, "/chat/shop/settings/webhooks/", {"url": "https://other.example/in", "secret": SECRET})
    assert "Every new message of #shop is now POSTed to https://other.example/in." in page.content.decode()
    assert Webhook.objects.filter(url="https://other.example/in", created_by__username="carol").exists()
