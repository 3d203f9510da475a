"""Who is online: users with at least one open ``/ws/`` socket.

Each process knows its own sockets. With ``REDIS_URL`` set, every process also keeps a sorted set
per user in Redis — one member per process, scored with the time it stops counting — refreshed
by its hub's heartbeat, so any process (a worker sending mention e-mails, say) can ask about any
user, and a crashed process's users drop out by expiry within ``ONLINE_TTL`` seconds.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import Counter
from functools import cache

import redis
import redis.asyncio as aredis

from parley import redis_urls
from parley.conf import parley_settings

logger = logging.getLogger(__name__)

# How long a process's claim that a user is online lasts without a heartbeat, and how often the
# hub renews it: a crashed process's users are offline within ONLINE_TTL seconds.
ONLINE_TTL = 60.0
HEARTBEAT_EVERY = 15.0

# This process's name in the shared sets: unique across hosts and restarts.
PROCESS_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

_local_sockets: Counter[int] = Counter()


def _key(user_id: int) -> str:
    return f"{parley_settings.KEY_PREFIX}:online:{user_id}"


@cache
def _sync_client(url: str) -> redis.Redis:
    return redis_urls.sync_client(url, timeout=5)


def user_online(user_id: int) -> bool:
    """Whether the user has an open socket in this process or, with ``REDIS_URL``, in any process."""
    if _local_sockets[user_id] > 0:
        return True
    if not parley_settings.REDIS_URL:
        return False
    count: int = _sync_client(parley_settings.REDIS_URL).zcount(_key(user_id), time.time(), "+inf")
    return count > 0


class OnlinePublisher:
    """One event loop's share of this process's online users, written to Redis when configured.

    The hub calls ``came``/``went`` when a user's first socket opens and last socket closes on its
    loop, and ``heartbeat`` from its sweep. Redis errors are logged, never raised: being shown
    offline for a while is better than refusing a socket.
    """

    def __init__(self) -> None:
        self._client: aredis.Redis | None = (
            redis_urls.async_client(parley_settings.REDIS_URL, timeout=5) if parley_settings.REDIS_URL else None
        )
        self._last_beat = 0.0

    async def came(self, user_id: int) -> None:
        _local_sockets[user_id] += 1
        await self._claim([user_id])

    async def went(self, user_id: int) -> None:
        _local_sockets[user_id] -= 1
        if _local_sockets[user_id] <= 0:
            del _local_sockets[user_id]
        if self._client is not None and user_id not in _local_sockets:
            await self._quietly(self._client.zrem(_key(user_id), PROCESS_ID))

    async def heartbeat(self, user_ids: list[int]) -> None:
        """Renew this process's claims, at most every ``HEARTBEAT_EVERY`` seconds."""
        now = time.monotonic()
        if self._client is None or now - self._last_beat < HEARTBEAT_EVERY:
            return
        self._last_beat = now
        await self._claim(user_ids)

    async def _claim(self, user_ids: list[int]) -> None:
        if self._client is None or not user_ids:
            return
        until = time.time() + ONLINE_TTL
        pipe = self._client.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.zadd(_key(user_id), {PROCESS_ID: until})
            pipe.zremrangebyscore(_key(user_id), "-inf", time.time())  # other processes' expired claims
            pipe.expire(_key(user_id), int(ONLINE_TTL * 2))
        await self._quietly(pipe.execute())

    @staticmethod
    async def _quietly(operation: object) -> None:
        try:
            await operation  # type: ignore[misc]
        except Exception:
            logger.warning("could not update online users in Redis", exc_info=True)
