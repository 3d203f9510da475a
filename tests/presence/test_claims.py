"""Expiring claims in Redis, the mechanism under who is online and who is in a room: two instances
stand for two server processes sharing one real Redis database."""

from __future__ import annotations

import asyncio

import pytest

from parley.presence.claims import ExpiringClaims
from tests.e2e.conftest import claim_redis_db  # noqa: F401  (fixture)


@pytest.fixture
def redis_settings(settings, claim_redis_db):  # noqa: F811
    settings.PARLEY = {**settings.PARLEY, "REDIS_URL": f"redis://127.0.0.1:6379/{claim_redis_db()}"}
    return settings


def claims(ttl: float = 60.0) -> ExpiringClaims:
    return ExpiringClaims("test", ttl=lambda: ttl, heartbeat_every=lambda: 0.0)


def test_holders_are_counted_so_that_only_the_first_claims_and_the_last_releases():
    board = claims()
    assert board.redis is None  # without REDIS_URL the count is all there is
    assert (board.hold("alice"), board.hold("alice")) == (True, False)
    assert (board.let_go("alice"), board.let_go("alice")) == (False, True)
    assert board.let_go("alice") is False  # never below zero: a late close does not release twice
    assert board.local == {}


async def test_two_processes_see_each_others_claims_until_released(redis_settings):
    one, two = claims(), claims()
    assert [*map(bytes, await one.claim_and_read(7, "one") or [])] == [b"one"]
    assert sorted(await two.claim_and_read(7, "two") or []) == [b"one", b"two"]
    assert await one.release_and_read(7, "one") == [b"two"]
    await two.renew([(7, "two"), (8, "two")])
    assert (await one.live(7), await one.live(8)) == ([b"two"], [b"two"])
    await two.release(7, "two")
    assert await one.live(7) == []


async def test_an_unrenewed_claim_ends_and_exactly_one_process_takes_it(redis_settings):
    crashed, one, two = claims(ttl=0.2), claims(), claims()
    await crashed.renew([(7, "crashed")])
    await one.renew([(7, "one")])
    await asyncio.sleep(0.3)

    taken = [await one.take_expired(7), await two.take_expired(7)]

    assert taken == [[(b"crashed", [b"one"])], []]
    assert await two.live(7) == [b"one"]


async def test_renewing_with_prune_drops_other_processes_ended_claims(redis_settings):
    crashed, one = claims(ttl=0.2), claims()
    await crashed.renew([(7, "crashed")])
    await asyncio.sleep(0.3)
    await one.renew([(7, "one")], prune=True)
    assert await one.take_expired(7) == []  # nothing left to find


async def test_redis_away_costs_the_claims_never_an_exception(settings):
    settings.PARLEY = {**settings.PARLEY, "REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens on port 1
    board = claims()
    assert board.due()
    await board.renew([(7, "one")])
    await board.release(7, "one")
    assert await board.claim_and_read(7, "one") is None
    assert await board.release_and_read(7, "one") is None
    assert (await board.live(7), await board.take_expired(7)) == ([], [])


async def test_releases_asked_for_together_go_in_one_transaction(redis_settings):
    """A burst of releases (a thousand sockets closing at once) is one transaction, not one each
    queuing for the pool: every release of the burst reads the set as it is after all of them."""
    one, two = claims(), claims()
    members = [f"guest-{i}" for i in range(200)]
    for member in members:
        await one.claim_and_read(9, member)
    await two.claim_and_read(9, "elsewhere")
    answers = await asyncio.gather(*(one.release_and_read(9, member) for member in members))
    assert all(answer == [b"elsewhere"] for answer in answers)
    await asyncio.gather(*(one.release(9, member) for member in ("never-claimed", "nor-this")))
    assert await one.live(9) == [b"elsewhere"]
