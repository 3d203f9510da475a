"""Expiring claims in Redis, the mechanism under both who is online (``online``) and who is in a room
(``presence``).

A claim says "this process holds this" as a member of a Redis sorted set, scored with the time the
claim ends. The process counts its own holders in memory (``hold``/``let_go``): that count is the
in-process answer, and all there is without ``REDIS_URL``. It claims when the first holder comes,
releases when the last one goes, and renews its claims from a heartbeat (``due`` says when); a
process that crashes stops renewing, so its claims end by themselves within the TTL.

Redis being away costs accuracy, never a socket: every Redis error is logged, and the call answers
None (or nothing) as if Redis were not configured.

Releases are batched: those asked for while one transaction is on its way to Redis go together in
the next, so a thousand sockets closing at once cost a few round trips rather than a thousand
transactions queuing for the pool's connections.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from typing import Any, NamedTuple

import redis.asyncio as aredis

from parley import redis_urls
from parley.conf import parley_settings

logger = logging.getLogger(__name__)


def claims_key(kind: str, set_id: object) -> str:
    """The Redis key of one set of claims (``kind`` "online", set per user; "presence", per room)."""
    return f"{parley_settings.KEY_PREFIX}:{kind}:{set_id}"


class ExpiringClaims:
    """One event loop's claims of one ``kind``: local holder counts, and the claims in Redis when configured.

    ``ttl`` and ``heartbeat_every`` are read at each use, so that settings changed at run time (tests)
    apply. ``local`` lets several instances share one count (one per process rather than per loop).
    """

    def __init__(
        self,
        kind: str,
        *,
        ttl: Callable[[], float],
        heartbeat_every: Callable[[], float],
        local: Counter[Hashable] | None = None,
    ) -> None:
        self.kind = kind
        self._ttl = ttl
        self._heartbeat_every = heartbeat_every
        self.local: Counter[Hashable] = Counter() if local is None else local
        self.redis: aredis.Redis | None = (
            redis_urls.async_client(parley_settings.REDIS_URL, timeout=5) if parley_settings.REDIS_URL else None
        )
        self._last_beat = time.monotonic()
        self._releases: list[_Release] = []
        self._releasing: asyncio.Task[None] | None = None

    # --- this process's holders -------------------------------------------------------------------

    def hold(self, holder: Hashable) -> bool:
        """Count one more holder of ``holder``; True when it is the first (time to claim)."""
        self.local[holder] += 1
        return self.local[holder] == 1

    def let_go(self, holder: Hashable) -> bool:
        """Count one holder fewer; True when that was the last one (time to release)."""
        if self.local[holder] <= 0:
            self.local.pop(holder, None)  # never held (a socket closed before it counted)
            return False
        self.local[holder] -= 1
        if self.local[holder] > 0:
            return False
        del self.local[holder]
        return True

    # --- the claims in Redis ----------------------------------------------------------------------

    def key(self, set_id: object) -> str:
        return claims_key(self.kind, set_id)

    def due(self) -> bool:
        """Whether it is time to renew (``renew``): never without Redis, else every ``heartbeat_every``."""
        if self.redis is None or time.monotonic() - self._last_beat < self._heartbeat_every():
            return False
        self._last_beat = time.monotonic()
        return True

    async def renew(self, claims: Iterable[tuple[object, str]], *, prune: bool = False) -> None:
        """Claim (again) each ``(set_id, member)`` until a TTL from now, in one round trip. With
        ``prune``, other processes' expired claims in those sets go too (when nobody has to learn
        whose they were)."""
        if self.redis is None:
            return
        ttl = self._ttl()
        now = time.time()
        pipe = self.redis.pipeline(transaction=False)
        for set_id, member in claims:
            pipe.zadd(self.key(set_id), {member: now + ttl})
            if prune:
                pipe.zremrangebyscore(self.key(set_id), "-inf", now)
            # The set outlives its members' claims a little, and goes when nobody renews any.
            pipe.expire(self.key(set_id), math.ceil(ttl * 2))
        if len(pipe):
            await self._quietly(pipe.execute())

    async def release(self, set_id: object, member: str) -> None:
        """Withdraw this process's claim ``member``."""
        if self.redis is not None:
            await self._batched(set_id, member, read=False)

    async def claim_and_read(self, set_id: object, member: str) -> list[bytes] | None:
        """Claim ``member`` and read the set's live claims in one transaction (None: no Redis, or unreachable)."""
        if self.redis is None:
            return None
        ttl = self._ttl()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self.key(set_id), {member: time.time() + ttl})
            pipe.expire(self.key(set_id), math.ceil(ttl * 2))
            pipe.zrangebyscore(self.key(set_id), time.time(), "+inf")
            result = await self._quietly(pipe.execute())
        return None if result is None else list(result[2])

    async def release_and_read(self, set_id: object, member: str) -> list[bytes] | None:
        """Withdraw ``member`` and read the set's live claims in one transaction (None: no Redis, or unreachable)."""
        if self.redis is None:
            return None
        return await self._batched(set_id, member, read=True)

    async def _batched(self, set_id: object, member: str, *, read: bool) -> list[bytes] | None:
        release = _Release(set_id, member, read, asyncio.get_running_loop().create_future())
        self._releases.append(release)
        if self._releasing is None or self._releasing.done():
            self._releasing = asyncio.create_task(self._release_all())
        # Shielded: a socket's task cancelled while waiting must not cancel its neighbours' batch.
        return await asyncio.shield(release.answer)

    async def _release_all(self) -> None:
        """Send the waiting releases, one transaction per batch, until none are left."""
        while self._releases:
            batch, self._releases = self._releases, []
            live = await self._release_batch(batch)
            for release in batch:
                if not release.answer.done():
                    release.answer.set_result(None if live is None else live.get(release.set_id))

    async def _release_batch(self, batch: list[_Release]) -> dict[object, list[bytes]] | None:
        """Withdraw every claim of ``batch``, then read the live claims of the sets asked about,
        in one transaction: each reader sees the set as it is after all of the batch's releases."""
        assert self.redis is not None
        read = list(dict.fromkeys(release.set_id for release in batch if release.read))
        async with self.redis.pipeline(transaction=True) as pipe:
            for release in batch:
                pipe.zrem(self.key(release.set_id), release.member)
            for set_id in read:
                pipe.zrangebyscore(self.key(set_id), time.time(), "+inf")
            result = await self._quietly(pipe.execute())
        if result is None:
            return None
        return {set_id: list(claims) for set_id, claims in zip(read, result[len(batch) :], strict=True)}

    async def live(self, set_id: object) -> list[bytes]:
        """The set's claims that have not ended, whichever process made them."""
        if self.redis is None:
            return []
        return list(await self._quietly(self.redis.zrangebyscore(self.key(set_id), time.time(), "+inf")) or [])

    async def take_expired(self, set_id: object) -> list[tuple[bytes, list[bytes]]]:
        """Remove the set's ended claims; each one this call removed, with the live claims right after.

        Of several processes finding the same ended claim, only the one whose removal succeeds gets it.
        """
        if self.redis is None:
            return []
        taken: list[tuple[bytes, list[bytes]]] = []
        for member in await self._quietly(self.redis.zrangebyscore(self.key(set_id), "-inf", time.time())) or []:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self.key(set_id), member)
                pipe.zrangebyscore(self.key(set_id), time.time(), "+inf")
                result = await self._quietly(pipe.execute())
            if result and result[0]:
                taken.append((member, list(result[1])))
        return taken

    async def _quietly(self, operation: Any) -> Any:
        try:
            return await operation
        except Exception:
            logger.warning("could not update the %s claims in Redis", self.kind, exc_info=True)
            return None


class _Release(NamedTuple):
    set_id: object
    member: str
    read: bool
    answer: asyncio.Future[list[bytes] | None]
