"""The throttled in-memory channel layer: expired entries still go, at most a walk a second."""

from __future__ import annotations

import asyncio

import pytest

from parley.realtime import layers
from parley.realtime.layers import ThrottledInMemoryChannelLayer


async def test_expired_messages_go_at_the_next_walk_not_at_every_group_send(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "CLEAN_EVERY", 3600.0)  # no walk falls due by itself during the test
    layer = ThrottledInMemoryChannelLayer(expiry=0.05)
    await layer.group_add("room", "hub.inmemory!a")
    await layer.group_send("room", {"type": "first"})  # walks, and schedules the next walk
    await asyncio.sleep(0.1)  # the first message has expired...
    await layer.group_send("room", {"type": "second"})
    assert "hub.inmemory!a" in layer.channels  # ...but no walk was due: it is still queued

    layer._next_clean = 0.0  # the next walk is due
    await layer.group_send("room", {"type": "third"})
    # The walk dropped the expired messages and, as Channels does, the channel from its groups.
    assert "hub.inmemory!a" not in layer.groups.get("room", {})


async def test_a_group_send_reaches_every_member() -> None:
    layer = ThrottledInMemoryChannelLayer()
    for name in ("hub.inmemory!a", "hub.inmemory!b"):
        await layer.group_add("room", name)
    await layer.group_send("room", {"type": "hello"})
    assert await layer.receive("hub.inmemory!a") == {"type": "hello"}
    assert await layer.receive("hub.inmemory!b") == {"type": "hello"}
