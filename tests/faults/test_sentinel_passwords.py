"""Sentinels that require a password of their own, in front of a master that requires another.

A ``redis+sentinel://`` URL carries the master's password before the hosts and the sentinels' as
``?sentinel_password=``; every kind of client Parley makes (blocking, asyncio, the channel layer's
hosts) must reach the master through such sentinels, and be refused without their password.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import redis
from channels_redis.core import RedisChannelLayer

from conftest import needs
from parley import redis_urls
from tests.faults.sentinels import SentinelGroup

pytestmark = [pytest.mark.e2e]

MASTER_PASSWORD = "master-s3cret/&%"
SENTINEL_PASSWORD = "sentinel-p@ss&word+"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    needs(
        "redis-server and redis-sentinel",
        SentinelGroup.available(),
        "apt-get install redis-server redis-sentinel (make system-packages)",
    )
    group = SentinelGroup(
        tmp_path_factory.mktemp("guarded") / "redis", password=MASTER_PASSWORD, sentinel_password=SENTINEL_PASSWORD
    )
    group.directory.mkdir()
    try:
        yield group.start()
    finally:
        group.stop()


def test_blocking_and_asyncio_clients_reach_the_master_through_guarded_sentinels(guarded: SentinelGroup):
    url = guarded.url(3)
    assert "sentinel_password=" in url
    key = f"parley-test-{uuid.uuid4().hex}"
    client = redis_urls.sync_client(url, timeout=2)
    client.set(key, "through the sentinels", ex=30)
    with redis.Redis(port=guarded.ports["master"], db=3, password=MASTER_PASSWORD) as master:
        assert master.get(key) == b"through the sentinels"

    async def read() -> bytes | None:
        async_client = redis_urls.async_client(url, timeout=2)
        try:
            return await async_client.get(key)
        finally:
            await async_client.aclose()

    assert asyncio.run(read()) == b"through the sentinels"


def test_without_the_sentinels_password_the_client_is_refused(guarded: SentinelGroup):
    url = guarded.url(3).partition("?")[0]
    with pytest.raises(redis.RedisError):
        redis_urls.sync_client(url, timeout=2).ping()


async def test_the_channel_layer_reaches_the_master_through_guarded_sentinels(guarded: SentinelGroup):
    hosts = redis_urls.layer_hosts(guarded.url(4), socket_timeout=2, connect_timeout=2)
    layer = RedisChannelLayer(hosts=hosts, prefix=f"parley-test-{uuid.uuid4().hex[:8]}")
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "hello", "text": "through the sentinels"})
    assert (await layer.receive(channel))["text"] == "through the sentinels"
    await layer.flush()
    await layer.close_pools()


def test_the_sentinels_password_never_appears_in_an_explanation():
    problem = redis_urls.url_problem("redis+sentinel://s1/?sentinel_password=hunter2")
    assert problem is not None
    assert "hunter2" not in problem
