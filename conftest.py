"""Shared fixtures: test data, WebSocket clients on the real ASGI stack, and real server processes."""

from __future__ import annotations

import json
import os
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from tests.e2e.client import AMBIENT
from tests.e2e.site import copy_sqlite
from tests.frames import CheckedPublish, received_frame, speaks_tutorial
from tests.servers import ServerProcess, manage, server_env

ORIGIN = b"http://localhost"
HOST = b"localhost"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that starts real server processes (``server_factory``) is an end-to-end test, in any
    folder: ``-m "not e2e"`` (``make test-fast``, the PostgreSQL pass) leaves it out, as it does the
    tests of tests/e2e. Those servers run on SQLite whatever the pass's ``DATABASE_URL``."""
    for item in items:
        if "server_factory" in getattr(item, "fixturenames", ()) and item.get_closest_marker("e2e") is None:
            item.add_marker(pytest.mark.e2e)


class Communicator(WebsocketCommunicator):  # type: ignore[misc]
    """A ``WebsocketCommunicator`` that checks every frame it receives against its model
    (``tests/frames.py``) and can skip presence and typing frames."""

    def __init__(self, *args: Any, ambient: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Presence and typing frames arrive whenever people come, go or type: skipped unless asked for.
        self.skipped = frozenset() if ambient else frozenset(AMBIENT)
        self.tutorial = speaks_tutorial(self.scope["path"])
        self._looked_at: deque[dict[str, Any]] = deque()  # taken off the queue by receive_nothing

    def _checked(self, output: dict[str, Any]) -> dict[str, Any]:
        """``output``, a message from the application; a frame it sends must be a valid server frame."""
        if output.get("type") == "websocket.send":
            text = output.get("text")
            received_frame(text if text is not None else output.get("bytes"), tutorial=self.tutorial)
        return output

    async def _next_output(self, timeout: float) -> Any:  # noqa: ASYNC109 (Channels' signature)
        return self._checked(await super().receive_output(timeout))

    def check_unread(self) -> None:
        """Check the frames the test never read (call it once the socket is closed)."""
        while not self.output_queue.empty():
            self._checked(self.output_queue.get_nowait())

    def _skipped(self, output: dict[str, Any]) -> bool:
        if output.get("type") != "websocket.send" or output.get("text") is None:
            return False
        frame = json.loads(output["text"])
        return isinstance(frame, dict) and frame.get("type") in self.skipped

    async def receive_output(self, timeout: float = 1) -> Any:  # noqa: ASYNC109 (Channels' signature)
        while True:
            output = self._looked_at.popleft() if self._looked_at else await self._next_output(timeout)
            if not self._skipped(output):
                return output

    async def receive_nothing(self, timeout: float = 0.1, interval: float = 0.01) -> bool:  # noqa: ASYNC109
        """Whether nothing but skipped frames arrives within ``timeout``."""
        if self._looked_at:
            return False
        while not await super().receive_nothing(timeout, interval):
            output = await self._next_output(timeout)
            if not self._skipped(output):
                self._looked_at.append(output)  # read again, in order, by the next receive
                return False
        return True


def needs(what: str, available: bool, how: str) -> None:
    """Skip a test whose dependency is missing, saying how to get it; under CI=true, fail instead."""
    if available:
        return
    message = f"{what} is not available: {how}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must not skip: {message}")
    pytest.skip(message)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _fresh_channel_layers() -> Iterator[None]:
    """Each test gets new channel layers (and so a new hub): no state leaks between event loops."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Passwords are hashed with MD5 in the test process: the production hasher (PBKDF2) takes a
    good part of a second per user on a slow machine, and hundreds of tests make users. A test of
    hashing itself sets its own; real server processes (tests.servers) keep the production hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploaded files go to a temporary folder, never into the checkout (tests that look at the
    files set their own ``MEDIA_ROOT`` on top of this)."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _short_dns_waits(settings: Any) -> None:
    """A webhook registration waits at most half a second for DNS (3 s by default): the tests'
    receivers have names like hooks.example that resolve nowhere, and where the resolver does not
    answer, every registration would wait out the whole default. ``localhost`` resolves at once."""
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_LOOKUP_TIMEOUT": 0.5}


@pytest.fixture(autouse=True)
def _no_failed_logins() -> Iterator[None]:
    """Each test starts with no failed log-ins counted in this process (the log-in throttle)."""
    from parley.accounts.login_throttle import login_counts_forget

    login_counts_forget()
    yield
    login_counts_forget()


@pytest.fixture(autouse=True)
def _published_events_checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every event a test publishes through ``parley.events.publish.publish`` (the one place
    events leave the domain) is checked against its shape, and every frame it becomes against
    its model (``tests/frames.py``); a mismatch fails the test at its end."""
    from parley.events import publish as events

    checked = CheckedPublish(events.publish)
    monkeypatch.setattr(events, "publish", checked)
    yield
    assert not checked.mismatches, "published events that do not match their models:\n" + "\n".join(checked.mismatches)


@pytest.fixture
def make_user() -> Callable[..., User]:
    """Create a user: ``make_user("alice", staff=True)``."""
    from tests.factories import UserFactory

    def make(username: str | None = None, *, staff: bool = False, password: str = "pw-for-tests-1") -> User:
        kwargs: dict[str, Any] = {"is_staff": staff, "password": password}
        if username:
            kwargs["username"] = username
        return UserFactory(**kwargs)

    return make


@pytest.fixture
def make_room() -> Callable[..., Any]:
    """Create a room: ``make_room("lobby", guests_allowed=True, creator=alice)``."""
    from tests.factories import RoomFactory

    def make(slug: str | None = None, **kwargs: Any) -> Any:
        if slug:
            kwargs["slug"] = slug
        return RoomFactory(**kwargs)

    return make


def session_cookie(user: User) -> bytes:
    """A ``Cookie`` header value carrying a logged-in session for ``user``."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.fixture
async def ws() -> AsyncIterator[Callable[..., Any]]:
    """Open WebSocket connections on the real ASGI stack; all are closed after the test.

    ``await ws(user=alice)`` (session, from an allowed origin), ``await ws(token=secret)``,
    ``await ws(name="zed")`` (a guest), ``await ws(path="/ws/chat/lobby/")``; presence and typing
    frames are skipped unless ``ambient=True``.
    """
    from config.asgi import application

    opened: list[Communicator] = []

    async def connect(
        path: str = "/ws/",
        *,
        user: User | None = None,
        token: str | None = None,
        origin: bytes | None = ORIGIN,
        name: str | None = None,
        expect_accept: bool = True,
        ambient: bool = False,
    ) -> WebsocketCommunicator:
        headers: list[tuple[bytes, bytes]] = []
        if origin is not None:
            # A browser's page on http://localhost: its Origin is the handshake's own host.
            headers += [(b"origin", origin), (b"host", HOST)]
        if user is not None:
            headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
        if token is not None:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        if name is not None:
            path = f"{path}?name={name}"
        communicator = Communicator(application, path, headers=headers, ambient=ambient)
        connected, _ = await communicator.connect(timeout=5)
        assert connected is expect_accept, f"handshake {'refused' if expect_accept else 'accepted'} for {path}"
        opened.append(communicator)
        return communicator

    yield connect
    for communicator in opened:
        if not communicator.future.done():  # a socket the server closed has finished already
            await communicator.disconnect()
        communicator.check_unread()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test session, to be copied, never served."""
    path = tmp_path_factory.mktemp("template") / "parley.sqlite3"
    manage(server_env(DATABASE_URL=f"sqlite:///{path}"), "migrate", "--noinput", "-v0")
    return path


@pytest.fixture
def server_factory(tmp_path: Path, migrated_sqlite: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real server processes on a fresh, migrated SQLite database (or the given env).

    ``start(kind="uvicorn", DATABASE_URL=...)``; every process is stopped after the test. The fresh
    database is a copy of one migrated once per session (migrating takes seconds); a database the
    caller names is migrated before its first server starts.
    """
    started: list[ServerProcess] = []
    default_path = tmp_path / "parley.sqlite3"
    default_db = f"sqlite:///{default_path}"
    migrated: set[str] = set()

    def start(kind: str = "daphne", **env_overrides: str) -> ServerProcess:
        # Uploads land in the test's own folder, never in the checkout's var/media.
        env = server_env(**{"DATABASE_URL": default_db, "DJANGO_MEDIA_ROOT": str(tmp_path / "media"), **env_overrides})
        if env["DATABASE_URL"] not in migrated:
            if env["DATABASE_URL"] == default_db:
                copy_sqlite(migrated_sqlite, default_path)
            else:
                manage(env, "migrate", "--noinput", "-v0")
            migrated.add(env["DATABASE_URL"])
        server = ServerProcess(env=env, log=tmp_path / f"server-{len(started)}.log", kind=kind)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
