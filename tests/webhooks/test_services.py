"""Registering webhooks (owners and staff only), the room flag, and deliveries made with messages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parley.accounts.identity import user_identity
from parley.rooms.access import RoomAccessError
from parley.rooms.models import Membership, Room
from parley.rooms.services import message_post, room_get_or_create
from parley.webhooks.models import Webhook, WebhookDelivery
from parley.webhooks.services import WebhookError, webhook_create, webhook_delete, webhook_set_active

pytestmark = pytest.mark.django_db

SECRET = "s3cret-of-the-receiver-0123"


def flag(room: Room) -> bool:
    return Room.objects.values_list("has_webhooks", flat=True).get(pk=room.pk)


def test_the_owner_registers_a_webhook_and_the_room_is_flagged(alice, room):
    webhook = webhook_create(room=room, identity=user_identity(alice), url="https://example.com/in", secret=SECRET)
    assert (webhook.room_id, webhook.url, webhook.active, webhook.created_by_id) == (
        room.pk,
        "https://example.com/in",
        True,
        alice.pk,
    )
    assert flag(room)


def test_the_flag_follows_the_rooms_active_webhooks(alice, room):
    first = webhook_create(room=room, identity=user_identity(alice), url="http://a.example/", secret=SECRET)
    second = webhook_create(room=room, identity=user_identity(alice), url="http://b.example/", secret=SECRET)
    webhook_set_active(webhook=first, active=False)
    assert flag(room)
    webhook_delete(webhook=second)
    assert not flag(room)
    webhook_set_active(webhook=first, active=True)
    assert flag(room)


def test_staff_may_register_webhooks_in_any_room(make_user, room):
    boss = make_user("boss", staff=True)
    webhook_create(room=room, identity=user_identity(boss), url="https://example.com/", secret=SECRET)
    assert Webhook.objects.count() == 1


def test_a_member_who_is_not_an_owner_is_refused(make_user, room):
    bob = make_user("bob")
    Membership.objects.create(room=room, user=bob)
    with pytest.raises(RoomAccessError) as refused:
        webhook_create(room=room, identity=user_identity(bob), url="https://example.com/", secret=SECRET)
    assert refused.value.code == "forbidden"
    assert not Webhook.objects.exists()
    assert not flag(room)


def test_a_private_room_stays_invisible_to_outsiders(make_user, alice):
    vault = room_get_or_create(slug="vault", is_private=True, creator=alice).room
    with pytest.raises(RoomAccessError) as refused:
        webhook_create(room=vault, identity=user_identity(make_user("bob")), url="https://e.com/", secret=SECRET)
    assert refused.value.code == "not_found"


@pytest.mark.parametrize(
    ("url", "secret", "message"),
    [
        ("ftp://example.com/in", SECRET, "is not an http:// or https:// URL"),
        ("example.com/in", SECRET, "is not an http:// or https:// URL"),
        ("http://exa mple.com/", SECRET, "is not an http:// or https:// URL"),
        ("https://example.com/in", "short", "The secret must be 16 to 200 printable characters"),
        ("https://example.com/in", "sixteen-chars-and-a-\x00", "The secret must be 16 to 200 printable characters"),
    ],
)
def test_bad_urls_and_short_secrets_are_refused(alice, room, url, secret, message):
    with pytest.raises(WebhookError, match=message):
        webhook_create(room=room, identity=user_identity(alice), url=url, secret=secret)
    assert not Webhook.objects.exists()
    assert not flag(room)


def test_a_message_gets_one_pending_delivery_per_active_webhook(alice, room):
    on = webhook_create(room=room, identity=user_identity(alice), url="http://a.example/", secret=SECRET)
    off = webhook_create(room=room, identity=user_identity(alice), url="http://b.example/", secret=SECRET)
    webhook_set_active(webhook=off, active=False)
    room.refresh_from_db()
    message = message_post(room=room, sender=user_identity(alice), body="hello", client_id="c1").message
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.webhook_id, delivery.message_id, delivery.status, delivery.attempts) == (
        on.pk,
        message.pk,
        "pending",
        0,
    )
    assert delivery.next_attempt_at is not None


def test_a_retried_send_makes_no_second_delivery(alice, room):
    webhook_create(room=room, identity=user_identity(alice), url="http://a.example/", secret=SECRET)
    room.refresh_from_db()
    for _ in range(2):
        message_post(room=room, sender=user_identity(alice), body="hello", client_id="same")
    assert WebhookDelivery.objects.count() == 1


def test_posting_in_a_room_without_webhooks_never_asks_the_webhooks_tables(alice, room):
    with CaptureQueriesContext(connection) as queries:
        message_post(room=room, sender=user_identity(alice), body="no hooks here", client_id="c1")
    assert queries.captured_queries  # the capture works
    assert not [q["sql"] for q in queries.captured_queries if "parley_webhook" in q["sql"]]
