"""``parley.redis_urls``: what each form of URL names, and pools that wait instead of failing.

The pool tests use the machine's Redis (database 11); Sentinel itself is driven for real by
tests/faults/test_sentinel_failover.py.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis
import redis.asyncio as aredis
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from conftest import needs, port_open
from parley import redis_urls

REDIS_DB_URL = "redis://127.0.0.1:6379/11"
# A blocking pop on a list nobody fills holds its connection for its whole timeout.
EMPTY_LIST = "parley-test:redis-urls:never-filled"


def test_a_list_of_urls_splits_where_a_scheme_starts_not_at_a_sentinel_hosts_commas():
    text = "redis://a:6379/0, redis+sentinel://s1:26379,s2:26379/main/0  rediss://b:6380/1"
    assert redis_urls.split_urls(text) == [
        "redis://a:6379/0",
        "redis+sentinel://s1:26379,s2:26379/main/0",
        "rediss://b:6380/1",
    ]


def test_a_sentinel_url_names_its_sentinels_master_database_and_password():
    address = redis_urls.sentinel_address("rediss+sentinel://:s%40cret@s1:26380,s2,[::1]:26381/main/3")
    assert address == redis_urls.SentinelAddress(
        sentinels=(("s1", 26380), ("s2", 26379), ("::1", 26381)),
        service="main",
        db=3,
        redis_user=None,
        password="s@cret",
        tls=True,
    )
    assert redis_urls.sentinel_address("redis://a:6379/0") is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+sentinel://s1:26379/", "is not a Sentinel URL"),
        ("redis+sentinel://s1:26379/main/zero", "is not a Sentinel URL"),
        ("http://a/", "is not a Redis URL"),
        ("redis://a:6379/0 redis://b:6379/0", "names 2 Redis servers"),
    ],
)
def test_a_wrong_state_url_is_explained(url, problem):
    assert problem in (redis_urls.url_problem(url) or "")


def test_a_password_never_appears_in_the_explanation():
    problem = redis_urls.url_problem("redis+sentinel://:hunter2@s1/")
    assert problem is not None
    assert "hunter2" not in problem


def test_the_channel_layer_takes_a_list_of_shards_each_plain_or_through_sentinel():
    hosts = redis_urls.layer_hosts(
        "redis://a:6379/2 redis+sentinel://:pw@s1,s2:26380/shard-b/2", socket_timeout=15, connect_timeout=5
    )
    assert hosts[0] == {"address": "redis://a:6379/2", "socket_timeout": 15, "socket_connect_timeout": 5}
    assert hosts[1]["sentinels"] == [("s1", 26379), ("s2", 26380)]
    assert hosts[1]["master_name"] == "shard-b"
    assert (hosts[1]["db"], hosts[1]["password"]) == (2, "pw")
    with pytest.raises(ImproperlyConfigured):
        redis_urls.layer_hosts("redis+sentinel://s1/", socket_timeout=15, connect_timeout=5)


def test_manage_py_check_reports_a_sharded_state_url(settings):
    settings.PARLEY = {"REDIS_URL": "redis://a:6379/0,redis://b:6379/0"}
    errors = [message for message in run_checks() if message.id == "parley.E005"]
    assert len(errors) == 1
    assert "names 2 Redis servers" in errors[0].msg


async def test_an_async_client_waits_for_a_connection_where_redis_pys_default_pool_fails(settings):
    needs("Redis", port_open("127.0.0.1", 6379), "run Redis on 127.0.0.1:6379")
    settings.PARLEY = {"REDIS_CONNECTIONS": 2}
    # Each command holds its connection for 50 ms: 40 at once need 20 rounds of the pool.
    burst = 40
    bounded = redis_urls.async_client(REDIS_DB_URL, timeout=5)
    try:
        results = await asyncio.gather(*(bounded.blpop([EMPTY_LIST], timeout=0.05) for _ in range(burst)))
        assert len(results) == burst
        assert len(bounded.connection_pool._available_connections) <= 2
    finally:
        await bounded.aclose()

    # The same burst on redis-py's own pool of the same size: the test above would catch a return to it.
    failing = aredis.Redis.from_url(REDIS_DB_URL, max_connections=2)
    try:
        outcomes = await asyncio.gather(
            *(failing.blpop([EMPTY_LIST], timeout=0.05) for _ in range(burst)), return_exceptions=True
        )
        assert any(isinstance(outcome, redis.exceptions.ConnectionError) for outcome in outcomes)
    finally:
        await failing.aclose()


def test_a_sync_client_shared_by_threads_waits_for_a_connection(settings):
    needs("Redis", port_open("127.0.0.1", 6379), "run Redis on 127.0.0.1:6379")
    settings.PARLEY = {"REDIS_CONNECTIONS": 2}
    client = redis_urls.sync_client(REDIS_DB_URL, timeout=5)
    failures: list[BaseException] = []

    def command() -> None:
        try:
            client.blpop([EMPTY_LIST], timeout=0.05)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=command) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    client.close()
    assert failures == []


def test_a_sentinel_url_may_carry_the_sentinels_own_password():
    address = redis_urls.sentinel_address("redis+sentinel://:master@s1,s2/main/0?sentinel_password=p%40ss%26")
    assert address is not None
    assert (address.password, address.sentinel_password) == ("master", "p@ss&")
    assert address.sentinel_options()["password"] == "p@ss&"
    assert "password" not in redis_urls.sentinel_address("redis+sentinel://s1/main/0").sentinel_options()
