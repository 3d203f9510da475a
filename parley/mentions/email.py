"""One e-mail for the mentions a user missed while away.

``PARLEY_MENTION_EMAIL_DELAY`` seconds after a mention, a user with no open socket (``user_online``)
who has not read it gets one e-mail listing every unread mention not yet e-mailed, and those are
marked ``emailed_at``. Mentions that arrive meanwhile join the same e-mail, so a busy conversation
sends one e-mail, not one per message. Users connected at that moment see the notifications live
and get no e-mail; mentions still unread when they leave are e-mailed at the next sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from parley.accounts.users import user_email, users_active
from parley.conf import parley_settings
from parley.notifications.models import Notification
from parley.notifications.selectors import notifications_withheld
from parley.presence.online import user_online
from parley.tasks.registry import TaskKind

MENTION = "mention"
# Mentions older than this are never e-mailed: leaving a tab after a month must not send a month of news.
EMAIL_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class MentionEmail:
    """An e-mail taken for sending: to whom, what it says, and the notifications it covers."""

    user_id: int
    to: str
    subject: str
    text: str
    notification_ids: list[int]


def mention_author(data: dict[str, object]) -> str:
    """Who mentioned: the username, or a guest's name marked as a guest's (anyone can type any name)."""
    author = str(data.get("author") or "Someone")
    return f"{author} (guest)" if data.get("author_guest") else author


def mention_email_recipients_due() -> list[int]:
    """Users with an unread, un-e-mailed mention older than the delay (the sweep's question)."""
    now = timezone.now()
    due = Notification.objects.filter(
        kind=MENTION,
        read_at__isnull=True,
        emailed_at__isnull=True,
        created_at__lte=now - timedelta(seconds=parley_settings.MENTION_EMAIL_DELAY),
        created_at__gte=now - EMAIL_WINDOW,
    )
    return list(due.values_list("recipient_id", flat=True).distinct()[:500])


def mention_email_claim(*, user_id: int) -> MentionEmail | None:
    """Take the user's pending mentions for one e-mail, or None when no e-mail is due.

    None when the user is connected, has no e-mail address, or no mention has waited the delay
    (or every one is in a room the user may no longer read). Each notification is taken with a
    conditional UPDATE, so two runners never e-mail it twice.
    """
    user = users_active().filter(pk=user_id).first()
    if user is None or not user_email(user) or user_online(user_id):
        return None
    now = timezone.now()
    pending = list(
        Notification.objects.filter(
            recipient_id=user_id,
            kind=MENTION,
            read_at__isnull=True,
            emailed_at__isnull=True,
            created_at__gte=now - EMAIL_WINDOW,
        ).order_by("id")
    )
    oldest_due = now - timedelta(seconds=parley_settings.MENTION_EMAIL_DELAY)
    if not any(notification.created_at <= oldest_due for notification in pending):
        return None
    taken = [
        notification
        for notification in pending
        if Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=now)
    ]
    # A mention in a room the user may no longer read is taken (it is done with) but not told:
    # the e-mail would carry its excerpt out of the room.
    withheld = notifications_withheld(user_id=user_id, rows=taken)
    taken = [notification for notification in taken if notification.pk not in withheld]
    if not taken:
        return None
    rooms = sorted({str(notification.data.get("room", "")) for notification in taken})
    subject = (
        f"{len(taken)} mentions while you were away"
        if len(taken) > 1
        else f"{mention_author(taken[0].data)} mentioned you in #{taken[0].data.get('room', '')}"
    )
    mentions = [{**n.data, "author": mention_author(n.data)} for n in taken]
    context = {"user": user, "mentions": mentions, "rooms": rooms, "site_url": parley_settings.SITE_URL}
    text = render_to_string("parley/mentions/email.txt", context)
    return MentionEmail(
        user_id=user_id, to=user_email(user), subject=subject, text=text, notification_ids=[n.pk for n in taken]
    )


def mention_email_release(*, notification_ids: list[int]) -> None:
    """Give back mentions whose e-mail could not be sent, for the next sweep to try again."""
    Notification.objects.filter(pk__in=notification_ids).update(emailed_at=None)


def _send(email: MentionEmail) -> None:
    send_mail(email.subject, email.text, None, [email.to])


async def mentions_email_run(user_id: int) -> None:
    """The ``mentions.email`` task for one user."""
    email = await database_sync_to_async(mention_email_claim)(user_id=user_id)
    if email is None:
        return
    try:
        # SMTP in a thread of its own: inline, the database thread is the server's.
        await sync_to_async(_send, thread_sensitive=False)(email)
    except Exception:
        await database_sync_to_async(mention_email_release)(notification_ids=email.notification_ids)
        raise


MENTION_EMAILS = TaskKind(
    name="mentions.email", ids="user_ids", run=mentions_email_run, due=mention_email_recipients_due
)
"""E-mailing away users the mentions they missed; the sweep finds those nobody sent."""
