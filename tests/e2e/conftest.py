"""End-to-end fixtures: seeded sites, their real servers shared by a test module, and socket clients.

Starting a server and migrating a database take seconds, so a module seeds one database (a copy
of a SQLite database migrated once per session, or a migrated PostgreSQL database it brings)
with the rooms and users its tests need, and starts its servers once; each test then uses rooms
of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.e2e.client import Client, Connect
from tests.e2e.site import RoomSpec, Site, UserSpec, copy_sqlite, seed
from tests.servers import ServerProcess, manage, server_env


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test session, to be copied, never served."""
    path = tmp_path_factory.mktemp("template") / "parley.sqlite3"
    manage(server_env(DATABASE_URL=f"sqlite:///{path}"), "migrate", "--noinput", "-v0")
    return path


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
