"""Mention e-mails through a real SMTP server (aiosmtpd): one e-mail for several mentions to a user
who is away, none to a user who is connected, nothing lost when the SMTP server is down."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.utils import timezone

from parley.mentions.email import mention_email_recipients_due, mentions_email_run
from parley.notifications.models import Notification
from parley.notifications.services import notify
from parley.rooms.services import room_get_or_create
from tests.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Mailbox:
    """What the SMTP server received: one parsed e-mail per message."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parsed["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
def smtp(settings) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "Parley <parley@example.com>"
    yield mailbox
    controller.stop()


@pytest.fixture
def people(make_user):
    def make():
        users = {name: make_user(name) for name in ("alice", "bob", "carol")}
        for name, user in users.items():
            user.email = f"{name}@example.com"
            user.save(update_fields=["email"])
        room_get_or_create(slug="general", creator=users["alice"])
        return users

    return make


async def wait_for(condition, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await sync_to_async(condition)():
        assert asyncio.get_running_loop().time() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.05)


async def test_several_mentions_while_away_make_one_email_and_none_for_a_connected_user(ws, settings, smtp, people):
    settings.PARLEY = {**settings.PARLEY, "TASKS": "inline"}
    settings.PARLEY = {**settings.PARLEY, "MENTION_EMAIL_DELAY": 1.0}
    settings.PARLEY = {**settings.PARLEY, "SITE_URL": "https://chat.example.com"}
    users = await sync_to_async(people)()
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    alices = await ws(user=alice)
    await ws(user=carol)  # carol is connected; bob is away
    bodies = ["@bob @carol standup?", "@bob the build is red", "@bob ping"]
    for number, body in enumerate(bodies):
        await alices.send_json_to({"type": "send", "room": "general", "body": body, "client_id": f"c-{number}"})
    await wait_for(lambda: Notification.objects.filter(recipient=bob, kind="mention").count() == 3)

    await wait_for(lambda: len(smtp.messages) >= 1)
    # Every mention's own e-mail check has run by now (same delay); none sent a second e-mail.
    await asyncio.sleep(settings.PARLEY["MENTION_EMAIL_DELAY"] + 0.5)
    [message] = smtp.messages
    assert message["X-Envelope-To"] == "bob@example.com"
    assert message["To"] == "bob@example.com"
    assert message["Subject"] == "3 mentions while you were away"
    text = message.get_content()
    assert text.count("#general — alice: ") == 3
    for body in bodies:
        assert body in text
    assert "https://chat.example.com/chat/general/" in text
    assert await Notification.objects.filter(recipient=bob, emailed_at__isnull=True).acount() == 0
    # carol's mention stays un-e-mailed: she was connected and saw it live.
    assert await Notification.objects.filter(recipient=carol, kind="mention", emailed_at__isnull=True).acount() == 1


async def test_an_unsent_email_is_given_back_for_the_next_try(settings, smtp, people):
    settings.PARLEY = {**settings.PARLEY, "MENTION_EMAIL_DELAY": 0.0}
    users = await sync_to_async(people)()
    bob = users["bob"]
    await sync_to_async(notify)([bob], "mention", {"room": "general", "author": "alice", "excerpt": "@bob hi"})
    settings.EMAIL_PORT = free_port()  # nothing listens there: the SMTP connection fails
    with pytest.raises(ConnectionRefusedError):
        await mentions_email_run(user_id=bob.pk)
    assert await Notification.objects.filter(recipient=bob, emailed_at__isnull=True).acount() == 1
    assert smtp.messages == []
    assert await sync_to_async(mention_email_recipients_due)() == [bob.pk]


async def test_read_old_or_addressless_mentions_are_not_emailed(settings, smtp, people, make_user):
    settings.PARLEY = {**settings.PARLEY, "MENTION_EMAIL_DELAY": 0.0}
    users = await sync_to_async(people)()
    nomail = await sync_to_async(make_user)("nomail")
    bob, carol = users["bob"], users["carol"]
    [read] = await sync_to_async(notify)([bob], "mention", {"room": "general", "author": "alice", "excerpt": "x"})
    await Notification.objects.filter(pk=read.pk).aupdate(read_at=timezone.now())
    [old] = await sync_to_async(notify)([carol], "mention", {"room": "general", "author": "alice", "excerpt": "y"})
    await Notification.objects.filter(pk=old.pk).aupdate(created_at=timezone.now() - timedelta(days=2))
    await sync_to_async(notify)([nomail], "mention", {"room": "general", "author": "alice", "excerpt": "z"})
    assert await sync_to_async(mention_email_recipients_due)() == [nomail.pk]
    for user in (bob, carol, nomail):
        await mentions_email_run(user_id=user.pk)
    assert smtp.messages == []
