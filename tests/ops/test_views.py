"""Health, readiness and metrics endpoints."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

pytestmark = pytest.mark.django_db


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_the_database_and_layer_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": True, "channel_layer": True}}


def test_readyz_is_503_when_the_channel_layer_does_not_answer(client, settings):
    # A Redis layer on a port where nothing listens.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "channel_layer": False}


@pytest.mark.django_db(transaction=True)
async def test_metrics_count_sockets_frames_and_stored_messages(ws, make_user, make_room, async_client):
    alice = await sync_to_async(make_user)("alice")
    await sync_to_async(make_room)("lobby")
    before = _metrics(await async_client.get("/metrics"))
    client = await ws(user=alice)
    await client.send_json_to({"type": "subscribe", "room": "lobby"})
    await client.receive_json_from()
    await client.send_json_to({"type": "send", "room": "lobby", "body": "hi", "client_id": "c"})
    await client.receive_json_from()
    await client.receive_json_from()
    after = _metrics(await async_client.get("/metrics"))
    assert after["parley_sockets_open"] == before["parley_sockets_open"] + 1
    assert after["parley_frames_in_total"] == before["parley_frames_in_total"] + 2
    # subscribed, presence, ack and the message itself
    assert after["parley_frames_out_total"] == before["parley_frames_out_total"] + 4
    assert after["parley_messages_stored_total"] == before["parley_messages_stored_total"] + 1
    assert after["parley_fanout_latency_seconds_count"] == before["parley_fanout_latency_seconds_count"] + 1


def _metrics(response) -> dict[str, float]:
    assert response.status_code == 200
    values = {}
    for line in response.content.decode().splitlines():
        if line.startswith("parley_") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


# --- who may read /metrics -------------------------------------------------------------------

TOKEN = "s3cret-scrape-token"


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"])
def test_metrics_are_served_to_this_machine_by_default(client, address):
    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == 200
    assert b"parley_sockets_open" in response.content


@pytest.mark.parametrize("address", ["203.0.113.7", "10.0.0.5", "2001:db8::1", ""])
def test_metrics_are_refused_to_other_addresses_with_a_sentence(client, address):
    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == 403
    assert response.content.decode().startswith(
        "Metrics are served only to the addresses in PARLEY_METRICS_ALLOWED_IPS"
    )
    assert b"parley_" not in response.content


def test_an_allowed_network_lets_its_addresses_in(client, settings):
    settings.PARLEY = {**settings.PARLEY, "METRICS_ALLOWED_IPS": ["10.0.0.0/8", "2001:db8::/32"]}
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, settings):
    settings.PARLEY = {**settings.PARLEY, "TRUSTED_PROXIES": 1}
    # The proxy runs on this machine; the client it forwards is outside, whatever the client claims.
    outside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.7")
    assert outside.status_code == 403
    inside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert inside.status_code == 200


def test_the_metrics_token_lets_any_address_in(client, settings):
    settings.PARLEY = {**settings.PARLEY, "METRICS_TOKEN": TOKEN}
    settings.PARLEY = {**settings.PARLEY, "METRICS_ALLOWED_IPS": []}
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    missing = client.get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert missing.content == b"Send 'Authorization: Bearer <PARLEY_METRICS_TOKEN>' to read the metrics."


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, "Basic Zm9vOmJhcg=="])
def test_a_wrong_metrics_token_is_refused_even_from_an_allowed_address(client, settings, header):
    settings.PARLEY = {**settings.PARLEY, "METRICS_TOKEN": TOKEN}
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert b"does not hold the metrics token" in response.content


def test_without_a_token_set_an_authorization_header_changes_nothing(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer x").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer x").status_code == 403


@pytest.mark.parametrize(
    ("value", "ok"), [("10.0.0.0/8,192.0.2.7", True), ("::1", True), ("10.0.0.0/33", False), ("localhost", False)]
)
def test_the_allowed_addresses_are_checked_by_manage_py_check(settings, value, ok):
    from parley.conf import parley_settings

    settings.PARLEY = {**settings.PARLEY, "METRICS_ALLOWED_IPS": value}
    problems = [problem for problem in parley_settings.errors() if "METRICS_ALLOWED_IPS" in problem]
    if ok:
        assert problems == []
        assert value.split(",") == parley_settings.METRICS_ALLOWED_IPS
    else:
        assert len(problems) == 1
        assert "is not an address or network" in problems[0]
