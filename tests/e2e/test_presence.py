"""Presence and typing across two server processes sharing Redis: people on either process see
each other arrive, type and leave, and the people of a process that crashes leave by expiry."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.site import RoomSpec, Site, UserSpec

pytestmark = [pytest.mark.e2e]

# Claims last 3 s without a heartbeat (one every second), and hubs look for expired ones then.
TTL = 3.0


@pytest.fixture
def site(site_factory, claim_redis_db) -> Site:
    site = site_factory(rooms=(RoomSpec("plaza"),), users=(UserSpec("alice"), UserSpec("bob")))
    redis_url = f"redis://127.0.0.1:6379/{claim_redis_db()}"
    site.env.update(CHANNEL_LAYER_URL=redis_url, REDIS_URL=redis_url, PARLEY_PRESENCE_TTL=str(TTL))
    return site


def person(site: Site, name: str) -> dict[str, object]:
    return {"id": site.users[name].id, "name": name, "guest": False}


async def test_people_on_two_processes_see_each_other_and_a_crash_clears_them(site: Site, connect):
    first, second = site.start("uvicorn"), site.start("uvicorn")
    alice = await connect(first, token=site.token("alice"))
    bob = await connect(second, token=site.token("bob"))
    for client in (alice, bob):
        client.ignore = ()

    assert (await alice.request({"type": "subscribe", "room": "plaza"}))["type"] == "subscribed"
    assert await alice.recv() == {"type": "presence", "room": "plaza", "online": [person(site, "alice")]}
    assert (await bob.request({"type": "subscribe", "room": "plaza"}))["type"] == "subscribed"
    presence = await bob.recv()
    assert presence["online"] == [person(site, "alice"), person(site, "bob")]
    joined = {"type": "presence_diff", "room": "plaza", "joined": [person(site, "bob")], "left": []}
    assert await alice.recv() == joined

    await bob.send({"type": "typing", "room": "plaza"})
    assert await alice.recv() == {"type": "typing", "room": "plaza", "user": person(site, "bob")}

    second.kill()
    killed_at = time.monotonic()
    diff = await asyncio.wait_for(alice.recv(), TTL * 4)
    assert diff == {"type": "presence_diff", "room": "plaza", "joined": [], "left": [person(site, "bob")]}
    # Within the claim's life and the sweep that finds it expired, well inside the minute.
    assert time.monotonic() - killed_at < TTL * 4
