"""A user deactivated by another process (``manage.py shell``, as the admin would on any server)
loses their sockets on every server process within a second, over Redis, and their token no
longer opens one there, although both processes had it in their handshake cache."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.client import Client
from tests.e2e.site import Site, UserSpec
from tests.servers import manage

pytestmark = [pytest.mark.e2e]

DEACTIVATE = """
import time
from django.contrib.auth.models import User
user = User.objects.get(pk={user_id})
user.is_active = False
user.save()
print(time.time())
"""


@pytest.fixture
def site(site_factory, claim_redis_db) -> Site:
    site = site_factory(users=(UserSpec("alice"), UserSpec("bob")))
    site.env["CHANNEL_LAYER_URL"] = f"redis://127.0.0.1:6379/{claim_redis_db()}"
    return site


async def closed_at(client: Client) -> tuple[list[dict[str, object]], int | None, float]:
    frames, code = await asyncio.wait_for(client.closed(), 30)
    return frames, code, time.time()


async def test_deactivating_a_user_elsewhere_closes_their_sockets_on_every_process_within_a_second(site: Site, connect):
    servers = [site.start("daphne"), site.start("uvicorn")]
    alice, bob = site.users["alice"], site.users["bob"]
    sockets = [await connect(server, token=alice.token) for server in servers]
    bobs = await connect(servers[1], token=bob.token)
    for client in [*sockets, bobs]:
        assert (await client.request({"type": "ping"})) == {"type": "pong"}

    watching = [asyncio.create_task(closed_at(client)) for client in sockets]
    output = await asyncio.to_thread(manage, site.env, "shell", "-c", DEACTIVATE.format(user_id=alice.id))
    saved_at = float(output.strip().splitlines()[-1])

    for frames, code, at in await asyncio.gather(*watching):
        assert code == 4401
        assert [(frame["code"], frame["detail"]) for frame in frames] == [
            ("forbidden", "This account was deactivated.")
        ]
        assert at - saved_at < 1.0, f"closed {at - saved_at:.2f} s after the deactivation was saved"
    assert (await bobs.request({"type": "ping"})) == {"type": "pong"}
    for server in servers:
        refused = await connect(server, token=alice.token)
        frames, code = await asyncio.wait_for(refused.closed(), 10)
        assert code == 4401
        assert "unknown or revoked" in frames[0]["detail"]
