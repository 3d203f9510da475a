"""How the transport reaches the database: from worker threads, never from the event loop.

Channels' ``database_sync_to_async`` runs every call of a process in one thread. On SQLite that
is right — the database takes one writer at a time — but on PostgreSQL it made every socket of a
process queue behind every other socket's query: with 2,000 sockets in 200 rooms sending 200
messages a second, acknowledgements waited half a second at the 99th percentile, with the
database itself idle. On PostgreSQL the calls run instead in a small pool of threads
(``PARLEY_DB_THREADS``, default 4), each with a connection of its own; a socket still waits for
its own call before its next frame, so each socket's frames keep their order.

Each call also starts and ends like a request: connections that failed or outlived
``CONN_MAX_AGE`` are closed. Django would besides re-check every connection with a ``SELECT 1``
before each call (``CONN_HEALTH_CHECKS``); for a socket's frames that was one round trip in eight
of every message sent, so pooled connections are re-checked only after an error. A database
restart then costs each pooled thread one failed call, answered ``unavailable``, which clients
retry.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections

from parley.conf import parley_settings

P = ParamSpec("P")
R = TypeVar("R")


@cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="parley-db")


def _pooled() -> bool:
    # From the settings, not ``connections["default"].vendor``: on the event loop, ``connections``
    # is per task, so asking it made a database wrapper (3 KB) for every socket.
    engine = str(settings.DATABASES["default"]["ENGINE"])
    return parley_settings.DB_THREADS > 1 and "postgresql" in engine


def db_calls_at_once() -> int:
    """How many ``db_call`` calls run at the same time: the pool's threads on PostgreSQL, else one."""
    return int(parley_settings.DB_THREADS) if _pooled() else 1


def db_call(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``func`` as a coroutine function that runs it in a database thread.

    Stale connections are closed around each call, as with Channels' ``database_sync_to_async``.
    """
    if not _pooled():
        return database_sync_to_async(func)  # type: ignore[no-any-return]
    return _PooledCall(func, thread_sensitive=False, executor=_pool(parley_settings.DB_THREADS))


class _PooledCall(SyncToAsync[Any, Any]):
    """A call in a pool thread, between two ``close_stale_connections``."""

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        close_stale_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)  # type: ignore[no-untyped-call]
        finally:
            close_stale_connections()


def close_stale_connections() -> None:
    """Django's ``close_old_connections``, except that a connection that has answered since its
    last health check, without an error, is not checked again."""
    wrapper: Any  # django-stubs do not know health_check_done
    for wrapper in connections.all(initialized_only=True):
        checked = wrapper.health_check_done
        wrapper.close_if_unusable_or_obsolete()
        if wrapper.connection is not None and not wrapper.errors_occurred:
            wrapper.health_check_done = checked
