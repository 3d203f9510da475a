"""Webhook deliveries to a real HTTP receiver: signed POSTs, retries with back-off, every attempt
recorded, and pending deliveries picked up by the sweep. The task runner is the inline one, started
in the test's event loop by the first socket, exactly as in a server process."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.contrib.admin.sites import site as admin_site
from django.test import Client
from django.utils import timezone

from parley.accounts.identity import user_identity
from parley.rooms.attachments import attachment_upload
from parley.rooms.models import Room
from parley.rooms.services import PostExtras, message_post, room_get_or_create
from parley.tasks.queue import tasks_start
from parley.webhooks.delivery import delivery_run, retry_delay, webhook_body
from parley.webhooks.models import WebhookAttempt, WebhookDelivery
from parley.webhooks.services import webhook_create
from parley.webhooks.signing import signature_valid
from tests.media import upload
from tests.webhooks.receiver import webhook_receiver

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "a-receivers-shared-secret-42"


@pytest.fixture
def fast_retries(settings):
    settings.PARLEY = {**settings.PARLEY, "TASKS": "inline"}
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_RETRY_DELAY": 0.05}
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_RETRY_MAX_DELAY": 0.2}
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_MAX_ATTEMPTS": 4}
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_TIMEOUT": 2.0}
    settings.PARLEY = {
        **settings.PARLEY,
        "WEBHOOK_ALLOWED_NETWORKS": ["127.0.0.1/32"],
    }  # the receiver runs on this machine
    return settings


def setup_room(make_user, url: str):
    alice = make_user("alice")
    room = room_get_or_create(slug="shop", creator=alice).room
    webhook_create(room=room, identity=user_identity(alice), url=url, secret=SECRET)
    return alice, Room.objects.get(pk=room.pk)


async def until(condition, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await sync_to_async(condition)():
        assert asyncio.get_running_loop().time() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.02)


async def test_a_message_sent_on_a_socket_is_posted_signed_after_failed_attempts(ws, make_user, fast_retries):
    with webhook_receiver(statuses=[500, 503]) as receiver:
        alice, _ = await sync_to_async(setup_room)(make_user, receiver.url)
        client = await ws(user=alice)
        await client.send_json_to({"type": "send", "room": "shop", "body": "hello hooks", "client_id": "c-1"})
        ack = await client.receive_json_from(timeout=5)
        assert ack["type"] == "ack", ack
        first, second, third = await asyncio.to_thread(receiver.wait_for, 3)

        for request in (first, second, third):
            assert request.path == "/hooks/parley"
            assert request.headers["Content-Type"] == "application/json"
            # The receiver's check: the HMAC of the exact body bytes with the shared secret.
            expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
            assert request.headers["X-Parley-Signature"] == expected
            assert signature_valid(secret=SECRET, body=request.body, header=request.headers["X-Parley-Signature"])
        assert first.body == third.body  # a retry sends the same bytes
        assert {r.headers["X-Parley-Delivery"] for r in (first, second, third)} == {first.headers["X-Parley-Delivery"]}
        payload = json.loads(third.body)
        assert payload["event"] == "message.created"
        assert payload["room"] == "shop"
        assert payload["delivery"] == int(first.headers["X-Parley-Delivery"])
        assert payload["message"] == {
            "room": "shop",
            "seq": ack["seq"],
            "id": ack["id"],
            "author": {"id": alice.pk, "name": "alice", "guest": False},
            "body": "hello hooks",
            "created_at": payload["message"]["created_at"],
            "client_id": "c-1",
            "edited_at": None,
            "deleted": False,
            "reactions": {},
            "mine": [],
            "reply_to": None,
            "thread_count": 0,
            "attachments": [],
        }

        delivery = await WebhookDelivery.objects.aget(pk=payload["delivery"])
        await until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "delivered")
        delivery = await WebhookDelivery.objects.aget(pk=delivery.pk)
        assert delivery.attempts == 3
        assert delivery.delivered_at is not None
        assert delivery.next_attempt_at is None
        attempts = [a async for a in WebhookAttempt.objects.filter(delivery=delivery).order_by("id")]
        assert [(a.status_code, a.error) for a in attempts] == [
            (500, "HTTP 500 Internal Server Error"),
            (503, "HTTP 503 Service Unavailable"),
            (200, ""),
        ]


async def test_a_delivery_that_keeps_failing_is_failed_after_the_last_attempt(ws, make_user, fast_retries):
    fast_retries.PARLEY = {**fast_retries.PARLEY, "WEBHOOK_MAX_ATTEMPTS": 2}
    with webhook_receiver(statuses=[500] * 10) as receiver:
        alice, _ = await sync_to_async(setup_room)(make_user, receiver.url)
        client = await ws(user=alice)
        await client.send_json_to({"type": "send", "room": "shop", "body": "nobody home", "client_id": "c-1"})
        assert (await client.receive_json_from(timeout=5))["type"] == "ack"
        await until(lambda: WebhookDelivery.objects.filter(status="failed").exists())
        delivery = await WebhookDelivery.objects.aget()
        assert delivery.attempts == 2
        assert delivery.next_attempt_at is None
        assert len(receiver.requests) == 2


async def test_an_unreachable_receiver_is_an_attempt_with_the_error(make_user, fast_retries):
    fast_retries.PARLEY = {**fast_retries.PARLEY, "WEBHOOK_RETRY_DELAY": 30.0}
    fast_retries.PARLEY = {**fast_retries.PARLEY, "WEBHOOK_RETRY_MAX_DELAY": 60.0}
    with webhook_receiver() as receiver:
        url = receiver.url
    # The receiver is gone: nothing listens on its port any more.
    alice, room = await sync_to_async(setup_room)(make_user, url)
    await sync_to_async(message_post)(room=room, sender=user_identity(alice), body="hi", client_id="c")
    delivery = await WebhookDelivery.objects.aget()
    assert await delivery_run(delivery_id=delivery.pk) == retry_delay(1)
    attempt = await WebhookAttempt.objects.aget()
    assert attempt.status_code is None
    assert attempt.error.startswith("ConnectError")
    # Not due again until the back-off has passed: a second runner cannot take it meanwhile.
    assert await delivery_run(delivery_id=delivery.pk) is None
    assert await WebhookAttempt.objects.acount() == 1


async def test_the_sweep_delivers_what_was_stored_while_no_runner_was_there(make_user, fast_retries):
    fast_retries.PARLEY = {**fast_retries.PARLEY, "TASKS_SWEEP_INTERVAL": 0.1}
    with webhook_receiver() as receiver:
        alice, room = await sync_to_async(setup_room)(make_user, receiver.url)
        # Stored by a process with no task runner (no server loop): only the database knows.
        await sync_to_async(message_post)(room=room, sender=user_identity(alice), body="stored", client_id="c")
        # A delivery whose retry timer died with its process, overdue.
        await WebhookDelivery.objects.filter().aupdate(next_attempt_at=timezone.now() - timedelta(seconds=30))
        assert receiver.requests == []
        client = tasks_start()  # what a server's first connection does
        try:
            [request] = await asyncio.to_thread(receiver.wait_for, 1)
            assert json.loads(request.body)["message"]["body"] == "stored"
            await until(lambda: WebhookDelivery.objects.get().status == "delivered")
        finally:
            client.task.cancel()


def test_the_admin_shows_each_attempt_of_a_delivery(make_user, fast_retries):
    with webhook_receiver(statuses=[502]) as receiver:
        alice, room = setup_room(make_user, receiver.url)
        message_post(room=room, sender=user_identity(alice), body="hi", client_id="c")
        delivery = WebhookDelivery.objects.get()
        asyncio.run(delivery_run(delivery_id=delivery.pk))
    boss = make_user("boss", staff=True)
    boss.is_superuser = True
    boss.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(boss)
    page = client.get(f"/admin/parley/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "HTTP 502 Bad Gateway" in page
    assert "502" in page
    assert admin_site.is_registered(WebhookAttempt) is False  # attempts live inside their delivery


def test_a_message_with_files_is_delivered_with_them(make_user, fast_retries, tmp_path):
    fast_retries.MEDIA_ROOT = str(tmp_path)
    alice, room = setup_room(make_user, "http://127.0.0.1:9/hooks/parley")
    me = user_identity(alice)
    report = attachment_upload(room=room, uploader=me, upload=upload("report.pdf", b"%PDF-1.4\n%%EOF\n"))
    message_post(room=room, sender=me, body="the report", client_id="c", extras=PostExtras(attachments=(report.pk,)))
    payload = json.loads(webhook_body(WebhookDelivery.objects.select_related("message__room").get()))
    [file] = payload["message"]["attachments"]
    assert (file["id"], file["name"], file["content_type"], file["size"]) == (
        report.pk,
        "report.pdf",
        "application/pdf",
        15,
    )
    assert file["url"] == f"/files/{report.pk}/"  # served to readers of the room only, like the page's links
