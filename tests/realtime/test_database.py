"""How socket frames reach PostgreSQL: a healthy pooled connection is not re-checked before every
call, and a connection that failed is checked and replaced before the next."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError, close_old_connections, connection

from parley.realtime.database import close_stale_connections

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the pooled database threads and their health checks are for PostgreSQL")


@pytest.fixture(autouse=True)
def _persistent_connections() -> None:
    # Django's test set-up closes connections after each request (CONN_MAX_AGE 0); Parley's
    # servers keep them (60 s by default), which is the case these tests are about.
    _select_one()
    connection.close_at = None


def _select_one() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return int(cursor.fetchone()[0])


def test_a_connection_that_answered_is_not_marked_for_another_health_check() -> None:
    _select_one()
    assert connection.health_check_done
    close_stale_connections()
    assert connection.health_check_done  # the next call goes straight to its own query
    assert connection.connection is not None
    close_old_connections()
    assert not connection.health_check_done  # what Django does: a SELECT 1 before each call


def test_a_connection_whose_server_went_away_is_replaced_after_its_failed_call() -> None:
    _select_one()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    dsn = connection.get_connection_params()
    admin = psycopg.connect(
        host=dsn.get("host"), port=dsn.get("port"), user=dsn.get("user"), dbname="postgres", autocommit=True
    )
    with admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    with pytest.raises(OperationalError):
        _select_one()  # the one call a restart costs: answered `unavailable` to the socket
    assert connection.errors_occurred
    close_stale_connections()
    assert connection.connection is None  # checked, found dead, closed
    assert _select_one() == 1  # a new connection
