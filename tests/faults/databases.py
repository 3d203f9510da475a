"""A PostgreSQL database of a fault test's own on this machine's server, migrated, and dropped after."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from conftest import needs, port_open
from tests.e2e.conftest import POSTGRES_ADMIN_URL
from tests.servers import manage, server_env


@contextmanager
def own_postgres_database(prefix: str) -> Iterator[str]:
    """``postgres://postgres@127.0.0.1:5432/<prefix>_<random>``, migrated; dropped at the end."""
    needs("PostgreSQL", port_open("127.0.0.1", 5432), "run PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth)")
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = f"postgres://postgres@127.0.0.1:5432/{name}"
        manage(server_env(DATABASE_URL=url), "migrate", "--noinput", "-v0")
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
