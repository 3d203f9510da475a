"""End-to-end fixtures: seeded sites, their real servers shared by a test module, and socket clients.

Starting a server and migrating a database take seconds, so a module seeds one database (a copy
of a SQLite database migrated once per session, or a migrated PostgreSQL database it brings)
with the rooms and users its tests need, and starts its servers once; each test then uses rooms
of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
import redis
from psycopg import sql

from conftest import needs, port_open
from tests.e2e.client import Client, Connect
from tests.e2e.site import RoomSpec, Site, UserSpec, copy_sqlite, seed
from tests.servers import ServerProcess, manage, server_env

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_DBS = range(10, 16)


@pytest.fixture(scope="module")
def site_factory(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Iterator[Callable[..., Site]]:
    """Make seeded sites for a module: ``make(rooms=(...), users=(...), database_url=None)``.

    Without ``database_url`` a site gets a fresh copy of the migrated SQLite database; with one,
    the caller brings a migrated database. Every server of every site is stopped at the end.
    """
    directory = tmp_path_factory.mktemp("e2e")
    sites: list[Site] = []

    def make(
        *, rooms: tuple[RoomSpec, ...] = (), users: tuple[UserSpec, ...] = (), database_url: str | None = None
    ) -> Site:
        if database_url is None:
            path = directory / f"parley-{len(sites)}.sqlite3"
            copy_sqlite(migrated_sqlite, path)
            database_url = f"sqlite:///{path}"
        env = server_env(DATABASE_URL=database_url)
        site = Site(name=f"site-{len(sites)}", env=env, users=seed(env, rooms, users), logs=directory)
        sites.append(site)
        return site

    yield make
    for site in sites:
        for server in site.servers:
            server.stop()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A new, uniquely named, migrated PostgreSQL database, dropped at the end of the module.

    Channel-layer group names are made from room ids, and brokers (Redis pub/sub channels,
    RabbitMQ's default vhost) are shared by every test run on this machine, so the database
    numbers its rooms from a random offset: concurrent runs then never publish to each other's groups.
    """
    needs("PostgreSQL", port_open("127.0.0.1", 5432), "run PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth)")
    name = f"parley_e2e_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = f"postgres://postgres@127.0.0.1:5432/{name}"
        manage(server_env(DATABASE_URL=url), "migrate", "--noinput", "-v0")
        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as db:
            offset = 1_000_000 + secrets.randbelow(1_000_000_000)
            db.execute("SELECT setval(pg_get_serial_sequence('parley_room', 'id'), %s)", [offset])
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def claim_empty_redis_db(claimed: list[int]) -> int:
    """Claim an empty Redis database (index 10 or more) and add it to ``claimed``.

    A claim key marks the database as taken, so that a concurrent run never picks it too.
    """
    needs("Redis", port_open("127.0.0.1", 6379), "run Redis on 127.0.0.1:6379")
    for index in REDIS_DBS:
        with redis.Redis(host="127.0.0.1", port=6379, db=index) as client:
            if client.dbsize() == 0 and client.set("parley-e2e-claim", "1", nx=True, ex=600):
                claimed.append(index)
                return index
    pytest.fail(f"Redis databases {REDIS_DBS.start}..{REDIS_DBS.stop - 1} all hold keys; flush one for the tests")


def flush_redis_dbs(claimed: list[int]) -> None:
    """Empty the claimed Redis databases, claim keys included, for the next run."""
    for index in claimed:
        with redis.Redis(host="127.0.0.1", port=6379, db=index) as client:
            client.flushdb()


@pytest.fixture
def claim_redis_db() -> Iterator[Callable[[], int]]:
    """Claim empty Redis databases for this test (``claim_redis_db()``); they are flushed afterwards."""
    claimed: list[int] = []
    yield lambda: claim_empty_redis_db(claimed)
    flush_redis_dbs(claimed)


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Open sockets to a server; all are closed after the test.

    ``await connect(server, token=t)``, ``await connect(server, "/ws/chat/lobby/", name="zed")``,
    ``await connect(server, cookie="sessionid=…", origin="http://localhost")``.
    """
    opened: list[Client] = []

    async def open_client(
        server: ServerProcess,
        path: str = "/ws/",
        *,
        token: str | None = None,
        cookie: str | None = None,
        origin: str | None = None,
        name: str | None = None,
    ) -> Client:
        query = f"?{urlencode({'name': name})}" if name is not None else ""
        client = await Client.open(f"{server.ws_url}{path}{query}", token=token, cookie=cookie, origin=origin)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        await client.close()
