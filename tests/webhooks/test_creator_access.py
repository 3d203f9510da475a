"""A webhook reads its room on its creator's behalf: when the creator may no longer read the room
(banned, removed from a private room, the room made private, the account deactivated), deliveries
stop before anything is sent, the webhook is stopped with the reason for the owners to see, and it
can only be resumed once the creator may read the room again."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from parley.accounts.identity import user_identity
from parley.accounts.services import token_issue
from parley.moderation.services import member_ban, member_remove, member_unban, room_settings_update
from parley.rooms.models import Room
from parley.rooms.services import message_post, room_get_or_create
from parley.webhooks.delivery import delivery_run
from parley.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from parley.webhooks.services import WebhookError, webhook_create, webhook_set_active
from tests.webhooks.receiver import webhook_receiver

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "a-receivers-shared-secret-42"


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.PARLEY = {**settings.PARLEY, "TASKS": "inline"}
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_TIMEOUT": 2.0}
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_ALLOWED_NETWORKS": ["127.0.0.1/32"]}


def setup(make_user, url: str, *, private: bool = False):
    """Alice owns the room and registers the webhook; boss is staff and moderates."""
    alice, boss = make_user("alice"), make_user("boss", staff=True)
    room = room_get_or_create(slug="shop", is_private=private, creator=alice).room
    webhook_create(room=room, identity=user_identity(alice), url=url, secret=SECRET)
    return alice, boss


def post_and_deliver(author_name: str, body: str) -> WebhookDelivery | None:
    """Post as ``author_name`` and run the delivery that makes, if any (None: the room has no active webhook)."""
    from django.contrib.auth.models import User

    room = Room.objects.get(slug="shop")
    author = User.objects.get(username=author_name)
    message = message_post(room=room, sender=user_identity(author), body=body, client_id=body).message
    delivery = WebhookDelivery.objects.filter(message=message).first()
    if delivery is not None:
        asyncio.run(delivery_run(delivery_id=delivery.pk))
        delivery.refresh_from_db()
    return delivery


def listed(user_name: str) -> list[dict]:
    """The webhooks as the API lists them to ``user_name``."""
    from django.contrib.auth.models import User

    token = token_issue(user=User.objects.get(username=user_name)).secret
    response = Client().get("/api/rooms/shop/webhooks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    return response.json()


def loses_access(how: str, alice, boss) -> str:
    """Take the room away from alice ``how``; the reason the webhook will give."""
    room = Room.objects.get(slug="shop")
    if how == "banned":
        member_ban(room=room, actor=boss, username="alice")
        return "its creator alice is banned from #shop"
    if how == "removed from the private room":
        member_remove(room=room, actor=boss, username="alice")
        return "its creator alice is not a member of #shop, which is private"
    if how == "room made private":
        # Removed from a public room she could still read it, and the webhook went on; not once private.
        member_remove(room=room, actor=boss, username="alice")
        assert post_and_deliver("boss", "still public").status == "delivered"
        room_settings_update(room=room, actor=boss, title="", is_private=True, guests_allowed=False)
        return "its creator alice is not a member of #shop, which is private"
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    return "its creator alice's account is deactivated"


@pytest.mark.parametrize("how", ["banned", "removed from the private room", "room made private", "deactivated"])
def test_deliveries_stop_when_the_creator_loses_the_room_and_the_owners_see_why(make_user, how):
    with webhook_receiver() as receiver:
        alice, boss = setup(make_user, receiver.url, private=how == "removed from the private room")
        assert post_and_deliver("boss", "before").status == "delivered"
        reason = loses_access(how, alice, boss)
        received = len(receiver.requests)

        delivery = post_and_deliver("boss", "after")
        assert delivery is not None
        assert (delivery.status, delivery.next_attempt_at) == ("failed", None)
        assert WebhookAttempt.objects.filter(delivery=delivery).get().error == f"Not sent: {reason}."
        assert post_and_deliver("boss", "later") is None  # a stopped webhook makes no more deliveries
        assert len(receiver.requests) == received

    [shown] = listed("boss")
    assert (shown["active"], shown["status"], shown["stopped_reason"]) == (False, "stopped", reason)
    with pytest.raises(WebhookError) as refused:
        webhook_set_active(webhook=Webhook.objects.get(), active=True)
    assert str(refused.value) == (
        f"This webhook cannot be resumed: {reason}. Resume it once that has changed, or delete it and "
        "register the receiver again yourself."
    )
    assert Webhook.objects.get().status == "stopped"


def test_a_webhook_resumed_once_its_creator_may_read_again_delivers_again(make_user):
    with webhook_receiver() as receiver:
        alice, boss = setup(make_user, receiver.url)
        loses_access("banned", alice, boss)
        post_and_deliver("boss", "while banned")
        assert Webhook.objects.get().status == "stopped"
        member_unban(room=Room.objects.get(slug="shop"), actor=boss, username="alice")

        webhook = webhook_set_active(webhook=Webhook.objects.get(), active=True)
        assert (webhook.status, webhook.stopped_reason) == ("active", "")
        assert post_and_deliver("boss", "after the unban").status == "delivered"
        assert b"after the unban" in receiver.requests[-1].body
        assert not any(b"while banned" in r.body for r in receiver.requests)


def test_a_delivery_already_pending_when_the_creator_is_banned_is_not_sent(make_user):
    with webhook_receiver() as receiver:
        alice, boss = setup(make_user, receiver.url)
        room = Room.objects.get(slug="shop")
        message_post(room=room, sender=user_identity(boss), body="queued", client_id="q")
        loses_access("banned", alice, boss)
        delivery = WebhookDelivery.objects.get()
        asyncio.run(delivery_run(delivery_id=delivery.pk))
        assert receiver.requests == []
    assert WebhookDelivery.objects.get().status == "failed"


async def test_the_check_runs_in_the_runner_as_a_server_runs_it(make_user):
    """The same through the socket path's runner (inline tasks), not only a direct call."""
    from parley.tasks.queue import tasks_start

    with webhook_receiver() as receiver:
        alice, boss = await sync_to_async(setup)(make_user, receiver.url)
        await sync_to_async(loses_access)("banned", alice, boss)
        client = tasks_start()
        try:
            room = await Room.objects.aget(slug="shop")
            await sync_to_async(message_post)(room=room, sender=user_identity(boss), body="x", client_id="x")
            for _ in range(200):
                if await Webhook.objects.filter(active=False).aexists():
                    break
                await asyncio.sleep(0.02)
        finally:
            client.task.cancel()
        assert receiver.requests == []
    assert (await Webhook.objects.aget()).stopped_reason == "its creator alice is banned from #shop"
