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
