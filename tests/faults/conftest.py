"""Fault-test fixtures: the end-to-end ones (seeded sites, socket clients), a migrated PostgreSQL
database per module and Redis databases claimed per test, all imported from ``tests.e2e``; and
guards that bring back a dependency a test stopped, whatever became of the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import (  # noqa: F401
    claim_redis_db,
    connect,
    postgres_url,
    site_factory,
)
from tests.faults.dependencies import postgres_start, redis_start


@pytest.fixture
def restarts_postgres(postgres_url: str) -> Iterator[None]:  # noqa: F811
    """For a test that stops PostgreSQL: it is running and answering again after the test, even
    one that timed out before its own ``finally`` could start it (and before the test database
    is dropped: hence the dependency)."""
    yield
    postgres_start()


@pytest.fixture
def restarts_redis(claim_redis_db) -> Iterator[None]:  # noqa: F811
    """For a test that stops Redis: it is running and answering again after the test (and before
    the claimed Redis databases are flushed: hence the dependency)."""
    yield
    redis_start()
