"""Notifications across processes over Redis: raised by a separate process (``manage.py shell``),
received by the user's sockets on Daphne and on Uvicorn; a token revoked elsewhere closes the
sockets it opened, on every process, within a few seconds."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.site import Site, UserSpec
from tests.servers import manage

pytestmark = [pytest.mark.e2e]

RAISE = """
from parley.notifications.services import notify
notify([{user_id}], "order.status", {{"order_id": 7, "status": "paid"}})
"""
REVOKE = """
from parley.accounts.models import ApiToken
from parley.accounts.services import token_revoke
for token in ApiToken.objects.filter(user_id={user_id}, revoked_at__isnull=True):
    token_revoke(token=token)
"""


@pytest.fixture
def site(site_factory, claim_redis_db) -> Site:
    site = site_factory(users=(UserSpec("alice"), UserSpec("bob")))
    site.env["CHANNEL_LAYER_URL"] = f"redis://127.0.0.1:6379/{claim_redis_db()}"
    return site


async def test_a_notification_from_another_process_reaches_every_socket_of_the_user(site: Site, connect):
    servers = [site.start("daphne"), site.start("uvicorn")]
    alice, bob = site.users["alice"], site.users["bob"]
    alices = [await connect(server, token=alice.token) for server in servers]
    bobs = await connect(servers[0], token=bob.token)
    for client in [*alices, bobs]:  # the answer to a frame means the socket is attached
        assert (await client.request({"type": "notifications", "since": 0}))["type"] == "notifications"

    await asyncio.to_thread(manage, site.env, "shell", "-c", RAISE.format(user_id=alice.id))

    for client in alices:
        frame = await asyncio.wait_for(client.recv(), 10)
        assert (frame["type"], frame["kind"], frame["data"]) == (
            "notification",
            "order.status",
            {"order_id": 7, "status": "paid"},
        )
        assert await asyncio.wait_for(client.recv(), 10) == {"type": "notifications_unread", "count": 1}
    assert (await bobs.request({"type": "ping"})) == {"type": "pong"}  # bob heard nothing


async def test_revoking_a_token_in_another_process_closes_its_sockets_everywhere(site: Site, connect):
    servers = [site.start("daphne"), site.start("uvicorn")]
    alice = site.users["alice"]
    sockets = [await connect(server, token=alice.token) for server in servers]
    for client in sockets:
        assert (await client.request({"type": "ping"})) == {"type": "pong"}

    await asyncio.to_thread(manage, site.env, "shell", "-c", REVOKE.format(user_id=alice.id))

    for client in sockets:
        frames, code = await asyncio.wait_for(client.closed(), 10)
        assert code == 4401
        assert [frame["code"] for frame in frames] == ["forbidden"]
    # Both processes had the token in their handshake cache; neither accepts it any more.
    for server in servers:
        refused = await connect(server, token=alice.token)
        frames, code = await asyncio.wait_for(refused.closed(), 10)
        assert code == 4401
        assert "revoked" in frames[0]["detail"]
