"""Webhooks reach public receivers only: internal URLs are refused when registered, and at connect
time on the very address connected to (a name that now resolves inside reaches nothing); the
operator's allow-list opens an internal network on purpose; TLS still checks the URL's host name."""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from asgiref.sync import sync_to_async

from parley.accounts.identity import user_identity
from parley.rooms.models import Room
from parley.rooms.services import message_post, room_get_or_create
from parley.webhooks.addresses import AddressRefused, PublicOnlyTransport, address_refusal, check_receiver_url
from parley.webhooks.delivery import delivery_run
from parley.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from parley.webhooks.services import WebhookError, webhook_create
from tests.webhooks.receiver import webhook_receiver

SECRET = "a-receivers-shared-secret-42"

# The URL forms of issue 13, each with the words its refusal must hold.
INTERNAL_URLS = [
    ("http://127.0.0.1:8000/internal-admin/api", "127.0.0.1 is a loopback address"),
    ("http://localhost:8000/internal-admin/api", "localhost resolves to 127.0.0.1"),
    ("http://2130706433/", "'2130706433' is not a host name, nor an IPv4 address written as four decimal numbers"),
    ("http://0x7f000001/", "'0x7f000001' is not a host name, nor an IPv4 address"),
    ("http://127.1/", "'127.1' is not a host name, nor an IPv4 address"),
    ("http://0177.0.0.1/", "'0177.0.0.1' is not a host name, nor an IPv4 address"),
    ("http://user:pw@127.0.0.1/", "must not hold a user name or password"),
    ("https://user@example.com/", "must not hold a user name or password"),
    ("http://10.0.0.1/", "10.0.0.1 is a private address"),
    ("http://192.168.1.1/", "192.168.1.1 is a private address"),
    ("http://172.16.0.1/", "172.16.0.1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT address"),
    ("http://0.0.0.0/", "0.0.0.0 is the unspecified address"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ("http://240.0.0.1/", "240.0.0.1 is a reserved address"),
    ("http://[::1]/", "::1 is a loopback address"),
    ("http://[fc00::1]/", "fc00::1 is a private address"),
    ("http://[fe80::1]/", "fe80::1 is a link-local address"),
    ("http://[fec0::1]/", "fec0::1 is a special-purpose address"),  # site-local: no flag of Python's covers it
    ("http://192.0.0.8/", "192.0.0.8 is a"),  # IETF protocol assignments: missed by Python < 3.11.10's tables
    ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1 is 127.0.0.1, a loopback address"),
    ("http://[2002:7f00:1::]/", "2002:7f00:1:: leads to 127.0.0.1, a loopback address"),
    ("http://[64:ff9b::a00:1]/", "64:ff9b::a00:1 leads to 10.0.0.1, a private address"),
    ("ftp://example.com/in", "is not an http:// or https:// URL"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "refusal"), INTERNAL_URLS)
def test_internal_receivers_are_refused_when_registered(alice, room, url, refusal):
    with pytest.raises(WebhookError) as refused:
        webhook_create(room=room, identity=user_identity(alice), url=url, secret=SECRET)
    assert refusal in str(refused.value)
    assert not Webhook.objects.exists()


def test_a_refusal_says_what_to_do():
    with pytest.raises(AddressRefused) as refused:
        check_receiver_url("http://10.0.0.1/hook")
    assert str(refused.value) == (
        "Webhooks are only sent to public addresses: 10.0.0.1 is a private address. Give the receiver's "
        "public address (an operator can allow an internal network with PARLEY_WEBHOOK_ALLOWED_NETWORKS)."
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.215.14/hook",
        "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8080/in",
        "https://hooks.example/in",  # does not resolve (yet): checked at every connection instead
        "http://[2002:808:808::]/",  # 6to4 of 8.8.8.8, a public address
        "http://[64:ff9b::808:808]/",  # NAT64 (what DNS64 answers) of 8.8.8.8
    ],
)
def test_public_receivers_are_accepted(url):
    check_receiver_url(url)


def test_the_allow_list_opens_a_network_and_nothing_else(settings):
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_ALLOWED_NETWORKS": ["10.20.0.0/16", "fd00:1::/64"]}
    assert address_refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert address_refusal(ipaddress.ip_address("fd00:1::9")) is None
    assert address_refusal(ipaddress.ip_address("10.21.0.1")) == "10.21.0.1 is a private address"
    assert address_refusal(ipaddress.ip_address("127.0.0.1")) == "127.0.0.1 is a loopback address"


@pytest.mark.django_db
def test_the_number_of_webhooks_per_room_is_bounded(alice, room, settings):
    settings.PARLEY = {**settings.PARLEY, "WEBHOOKS_PER_ROOM": 3}
    for n in range(3):
        webhook_create(room=room, identity=user_identity(alice), url=f"https://hooks.example/{n}", secret=SECRET)
    with pytest.raises(WebhookError) as refused:
        webhook_create(room=room, identity=user_identity(alice), url="https://hooks.example/4", secret=SECRET)
    assert str(refused.value) == (
        "Room 'shop' already has 3 webhooks, the most a room may have; delete one it no longer needs first."
    )
    assert Webhook.objects.count() == 3
    other = room_get_or_create(slug="other", creator=alice).room  # the bound is per room
    webhook_create(room=other, identity=user_identity(alice), url="https://hooks.example/4", secret=SECRET)


# --- At connect time, on the address connected to -------------------------------------------------


@pytest.fixture
def local_receivers_allowed(settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "TASKS": "inline",
        "WEBHOOK_TIMEOUT": 2.0,
        "WEBHOOK_ALLOWED_NETWORKS": ["127.0.0.1/32"],
    }
    return settings


def register_and_post(alice, url: str) -> WebhookDelivery:
    room = room_get_or_create(slug="shop", creator=alice).room
    webhook_create(room=room, identity=user_identity(alice), url=url, secret=SECRET)
    room.refresh_from_db()
    message_post(room=room, sender=user_identity(alice), body="hello", client_id="c1")
    return WebhookDelivery.objects.get()


@pytest.mark.django_db(transaction=True)
async def test_the_allow_list_lets_a_local_receiver_work(alice, local_receivers_allowed):
    with webhook_receiver() as receiver:
        delivery = await sync_to_async(register_and_post)(alice, receiver.url)
        assert await delivery_run(delivery_id=delivery.pk) is None
        assert len(receiver.requests) == 1
    assert (await WebhookDelivery.objects.aget()).status == "delivered"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_receiver_that_is_internal_at_connect_time_gets_nothing_and_the_webhook_stops(
    alice, local_receivers_allowed, host
):
    """Registered while its address was allowed (as a name that later resolves inside would be), then
    refused at connect time: nothing reaches the receiver, the delivery fails at once, the webhook stops."""
    with webhook_receiver() as receiver:
        delivery = await sync_to_async(register_and_post)(alice, receiver.url.replace("127.0.0.1", host))
        local_receivers_allowed.PARLEY = {**local_receivers_allowed.PARLEY, "WEBHOOK_ALLOWED_NETWORKS": []}
        assert await delivery_run(delivery_id=delivery.pk) is None  # no retry planned
        await asyncio.sleep(0.2)
        assert receiver.requests == []
    delivery = await WebhookDelivery.objects.aget()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 1, None)
    attempt = await WebhookAttempt.objects.aget()
    resolved = "" if host == "127.0.0.1" else "localhost resolves to 127.0.0.1, and "
    assert attempt.status_code is None
    assert attempt.error.startswith(f"Refused: Webhooks are only sent to public addresses: {resolved}127.0.0.1 is")
    webhook = await Webhook.objects.aget()
    assert webhook.status == "stopped"
    assert webhook.stopped_reason == (
        f"its receiver's address is not public: {resolved}127.0.0.1 is a loopback address"
    )
    assert not (await Room.objects.aget(slug="shop")).has_webhooks  # new messages make no deliveries


async def test_the_transport_refuses_before_connecting(settings):
    """The check is in the connection itself, whatever URL the client is handed."""
    with webhook_receiver() as receiver:
        async with httpx.AsyncClient(transport=PublicOnlyTransport()) as client:
            for url in (receiver.url, receiver.url.replace("127.0.0.1", "localhost")):
                with pytest.raises(AddressRefused):
                    await client.post(url, content=b"{}")
        assert receiver.requests == []


# --- TLS: connected to the checked address, verified against the URL's host name -------------------


def certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize(("cert_name", "works"), [("localhost", True), ("other.example", False)])
async def test_tls_checks_the_urls_host_name_on_the_checked_address(settings, tmp_path, cert_name, works):
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_ALLOWED_NETWORKS": ["127.0.0.1/32"]}
    cert, key = certificate(tmp_path, cert_name)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    with webhook_receiver(tls=server_tls) as receiver:
        url = f"https://localhost:{receiver.port}/hooks/parley"
        async with httpx.AsyncClient(transport=PublicOnlyTransport(verify=client_tls)) as client:
            if works:
                response = await client.post(url, content=b"{}")
                assert response.status_code == 200
                assert receiver.requests[0].headers["Host"] == f"localhost:{receiver.port}"
            else:
                with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
                    await client.post(url, content=b"{}")


@pytest.mark.django_db
def test_the_admins_form_refuses_an_internal_receiver_too(make_user, room):
    from django.test import Client

    boss = make_user("boss", staff=True)
    boss.is_superuser = True
    boss.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(boss)
    form = {"room": room.pk, "url": "http://[::1]:8080/", "secret": SECRET, "active": "on"}
    response = client.post("/admin/parley/webhook/add/", form)
    assert response.status_code == 200  # the form again, with the error
    assert "::1 is a loopback address" in response.content.decode()
    assert not Webhook.objects.exists()
