"""Delivering a webhook: take a due delivery, POST it signed, record the attempt, plan a retry.

The POST is made with httpx's async client on the runner's event loop, never in a database thread
(inline, that thread is the server's, shared with every socket). A runner takes a delivery by
moving its ``next_attempt_at`` forward by a lease in one conditional UPDATE, so two runners (two
workers, or a retry timer and a sweep) never POST the same attempt twice.

Before each attempt the webhook's creator must still be allowed to read the room, and the client
connects only to addresses it checked (``addresses.PublicOnlyTransport``). Either refusal fails
the delivery at once, without retries, and stops the webhook with the reason for its owners to see.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from dataclasses import dataclass
from datetime import timedelta

import httpx
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from parley.conf import parley_settings
from parley.rooms.selectors import message_wire
from parley.tasks.registry import TaskKind
from parley.webhooks.addresses import AddressRefused, PublicOnlyTransport
from parley.webhooks.models import WebhookAttempt, WebhookDelivery
from parley.webhooks.selectors import deliveries_due
from parley.webhooks.services import DELIVER_TASK, webhook_refusal, webhook_stop
from parley.webhooks.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature

EVENT_MESSAGE_CREATED = "message.created"
USER_AGENT = "Parley-Webhooks/1"
# Longest error text kept per attempt.
ERROR_MAX = 500


@dataclass(frozen=True)
class DeliveryJob:
    """A delivery taken for one attempt: where to POST what, and the headers that go with it."""

    delivery_id: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class AttemptOutcome:
    status_code: int | None
    error: str
    duration_ms: int
    # Set when the receiver's address was refused: why the webhook stops (no retry could succeed).
    stop_reason: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The JSON a receiver gets: the event, the delivery id, the room and the message in its wire shape."""
    message = delivery.message
    payload = {
        "event": EVENT_MESSAGE_CREATED,
        "delivery": delivery.pk,
        "room": message.room.slug,
        "message": message_wire(message),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def retry_delay(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: the first delay, doubled each time, up to the cap."""
    return float(
        min(parley_settings.WEBHOOK_RETRY_MAX_DELAY, parley_settings.WEBHOOK_RETRY_DELAY * 2 ** (attempts - 1))
    )


def delivery_claim(*, delivery_id: int) -> DeliveryJob | None:
    """Take a pending, due delivery for one attempt; None if it is not due or another runner has it."""
    now = timezone.now()
    lease = timedelta(seconds=parley_settings.WEBHOOK_TIMEOUT + 30)
    taken = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + lease)
    if not taken:
        return None
    delivery = WebhookDelivery.objects.select_related(
        "webhook__room", "webhook__created_by", "message__room", "message__author"
    ).get(pk=delivery_id)
    webhook = delivery.webhook
    if not webhook.active:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
        delivery.save(update_fields=["status", "next_attempt_at"])
        return None
    refusal = webhook_refusal(webhook=webhook)
    if refusal is not None:
        # Nothing is sent: the outcome is recorded like an attempt, so the admin shows why.
        not_sent = AttemptOutcome(status_code=None, error=f"Not sent: {refusal}.", duration_ms=0, stop_reason=refusal)
        delivery_record(delivery_id=delivery_id, outcome=not_sent)
        return None
    body = webhook_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret=webhook.secret, body=body),
        DELIVERY_HEADER: str(delivery.pk),
        EVENT_HEADER: EVENT_MESSAGE_CREATED,
    }
    return DeliveryJob(delivery_id=delivery.pk, url=webhook.url, body=body, headers=headers)


@transaction.atomic
def delivery_record(*, delivery_id: int, outcome: AttemptOutcome) -> float | None:
    """Record an attempt; return the seconds until the next one, or None when the delivery is settled."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=now,
        status_code=outcome.status_code,
        error=outcome.error[:ERROR_MAX],
        duration_ms=outcome.duration_ms,
    )
    delivery.attempts += 1
    retry_in: float | None = None
    if outcome.succeeded:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif outcome.stop_reason or delivery.attempts >= parley_settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        retry_in = retry_delay(delivery.attempts)
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
    if outcome.stop_reason:
        webhook_stop(webhook_id=delivery.webhook_id, reason=outcome.stop_reason)
    return retry_in


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


def _client() -> httpx.AsyncClient:
    """This event loop's HTTP client: connections to a receiver are reused between deliveries."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # Redirects are not followed: a receiver that moved answers 3xx, which is a failed attempt
        # the admin shows, rather than the signed body going somewhere nobody registered (or inside).
        client = _clients[loop] = httpx.AsyncClient(
            transport=PublicOnlyTransport(),
            timeout=parley_settings.WEBHOOK_TIMEOUT,
            follow_redirects=False,
            trust_env=False,
        )
    return client


async def delivery_post(job: DeliveryJob) -> AttemptOutcome:
    """POST the job's body to its URL; any answer but 2xx, or no answer in time, is a failure."""
    started = time.monotonic()
    try:
        response = await _client().post(job.url, content=job.body, headers=job.headers)
    except AddressRefused as address:
        elapsed = int((time.monotonic() - started) * 1000)
        reason = f"its receiver's address is not public: {address.reason}"
        return AttemptOutcome(status_code=None, error=f"Refused: {address}", duration_ms=elapsed, stop_reason=reason)
    except httpx.HTTPError as error:
        elapsed = int((time.monotonic() - started) * 1000)
        return AttemptOutcome(status_code=None, error=f"{type(error).__name__}: {error}".strip(), duration_ms=elapsed)
    elapsed = int((time.monotonic() - started) * 1000)
    refused = "" if response.is_success else f"HTTP {response.status_code} {response.reason_phrase}".strip()
    return AttemptOutcome(status_code=response.status_code, error=refused, duration_ms=elapsed)


async def delivery_run(delivery_id: int) -> float | None:
    """One attempt at a delivery, if it is due and free; the seconds until its retry, or None."""
    job = await database_sync_to_async(delivery_claim)(delivery_id=delivery_id)
    if job is None:
        return None
    outcome = await delivery_post(job)
    retry_in: float | None = await database_sync_to_async(delivery_record)(delivery_id=delivery_id, outcome=outcome)
    return retry_in


WEBHOOK_DELIVERIES = TaskKind(name=DELIVER_TASK, ids="delivery_ids", run=delivery_run, due=deliveries_due)
"""POSTing stored deliveries, retried with back-off; the sweep finds those a restart left behind."""
