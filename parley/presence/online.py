"""Who is online: users with at least one open ``/ws/`` socket.

Each process knows its own sockets. With ``REDIS_URL`` set, every process also keeps a sorted set
per user in Redis — one member per process, scored with the time it stops counting — refreshed
by its hub's heartbeat, so any process (a worker sending mention e-mails, say) can ask about any
user, and a crashed process's users drop out by expiry within ``ONLINE_TTL`` seconds. The claims
are ``parley.presence.claims``', as presence's are.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Hashable
from functools import cache

import redis

from parley import redis_urls
from parley.conf import parley_settings
from parley.presence.claims import ExpiringClaims, claims_key

# How long a process's claim that a user is online lasts without a heartbeat, and how often the
# hub renews it: a crashed process's users are offline within ONLINE_TTL seconds.
ONLINE_TTL = 60.0
HEARTBEAT_EVERY = 15.0

# This process's name in the shared sets: unique across hosts and restarts.
PROCESS_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

# Open sockets per user id, over every event loop of the process: ``user_online`` is asked from any thread.
_local_sockets: Counter[Hashable] = Counter()


@cache
def _sync_client(url: str) -> redis.Redis:
    return redis_urls.sync_client(url, timeout=5)


def user_online(user_id: int) -> bool:
    """Whether the user has an open socket in this process or, with ``REDIS_URL``, in any process."""
    if _local_sockets[user_id] > 0:
        return True
    if not parley_settings.REDIS_URL:
        return False
    count: int = _sync_client(parley_settings.REDIS_URL).zcount(claims_key("online", user_id), time.time(), "+inf")
    return count > 0


class OnlinePublisher:
    """One event loop's share of this process's online users, written to Redis when configured.

    The hub calls ``came``/``went`` when a user's first socket opens and last socket closes on its
    loop, and ``heartbeat`` from its sweep. Redis errors are logged, never raised: being shown
    offline for a while is better than refusing a socket.
    """

    def __init__(self) -> None:
        self.claims = ExpiringClaims(
            "online", ttl=lambda: ONLINE_TTL, heartbeat_every=lambda: HEARTBEAT_EVERY, local=_local_sockets
        )

    async def came(self, user_id: int) -> None:
        """A socket of ``user_id`` opened on this loop."""
        self.claims.hold(user_id)
        await self.claims.renew([(user_id, PROCESS_ID)], prune=True)

    async def went(self, user_id: int) -> None:
        """A socket of ``user_id`` closed on this loop; the process's claim goes with its last one."""
        if self.claims.let_go(user_id):
            await self.claims.release(user_id, PROCESS_ID)

    async def heartbeat(self, user_ids: list[int]) -> None:
        """Renew this process's claims, at most every ``HEARTBEAT_EVERY`` seconds."""
        if self.claims.due():
            await self.claims.renew([(user_id, PROCESS_ID) for user_id in user_ids], prune=True)
