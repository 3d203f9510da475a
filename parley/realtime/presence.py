"""Who is in a room: the people with at least one socket following it, on any server process.

A person (a user, or a guest) is present in a room while any of their sockets follows it; three
tabs are one person, and the last tab closing is when they leave. Each hub counts its own sockets.
With ``REDIS_URL`` set, each hub also claims its people in a sorted set per room, scored with the
time the claim ends; its heartbeat renews the claims, so the people of a process that crashed drop
out within about ``PARLEY_PRESENCE_TTL`` seconds, when another hub finds their claims expired.
Without Redis, presence is this process's own (the in-memory layer serves one process anyway).

Whether someone *arrived* or *left* everywhere is decided in one Redis transaction each (add or
remove this hub's claim, then read the room's live claims), so of two processes racing, exactly one
sees the person arrive first or leave last, and announces it.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from typing import Any

import redis.asyncio as aredis

from parley import redis_urls
from parley.conf import parley_settings

logger = logging.getLogger(__name__)

Person = dict[str, Any]  # {"id": user id or None, "name": …, "guest": bool}, as a message's author


class PresenceBoard:
    """One hub's share of presence: its own counts, and its claims in Redis when configured."""

    def __init__(self) -> None:
        self._counts: dict[int, Counter[str]] = {}
        self._people: dict[int, dict[str, Person]] = {}
        self._redis: aredis.Redis | None = (
            redis_urls.async_client(parley_settings.REDIS_URL, timeout=5) if parley_settings.REDIS_URL else None
        )
        self.hub_id = ""
        self._last_beat = time.monotonic()

    async def arrive(self, room_id: int, key: str, person: Person) -> bool:
        """A socket of ``person`` (``Identity.key`` ``key``) follows the room; True if they just arrived."""
        counts = self._counts.setdefault(room_id, Counter())
        counts[key] += 1
        self._people.setdefault(room_id, {})[key] = person
        if counts[key] > 1:
            return False
        if self._redis is None:
            return True
        claims = await self._quietly(self._claim_and_read(room_id, key, person))
        return claims is None or not any(claim[0] == key and claim[1] != self.hub_id for claim in claims)

    async def depart(self, room_id: int, key: str) -> Person | None:
        """A socket of ``key`` stopped following the room; the person if they are now gone."""
        counts = self._counts.get(room_id)
        if counts is None or counts[key] <= 0:
            return None
        counts[key] -= 1
        if counts[key] > 0:
            return None
        del counts[key]
        person = self._people[room_id].pop(key)
        if not counts:
            del self._counts[room_id], self._people[room_id]
        if self._redis is None:
            return person
        claims = await self._quietly(self._release_and_read(room_id, key, person))
        if claims is not None and any(claim[0] == key for claim in claims):
            return None  # still here through another process
        return person

    async def people(self, room_id: int) -> list[Person]:
        """Everyone present in the room, each once."""
        present = dict(self._people.get(room_id, {}))
        if self._redis is not None:
            claims = await self._quietly(self._redis.zrangebyscore(self._key(room_id), time.time(), "+inf"))
            for claim in map(json.loads, claims or []):
                present.setdefault(claim[0], _person(claim))
        return sorted(present.values(), key=lambda person: (person["guest"], person["name"].lower()))

    def due(self) -> bool:
        """Whether it is time for ``heartbeat`` and ``expired``: every third of ``PARLEY_PRESENCE_TTL``,
        so a claim survives two missed heartbeats."""
        if self._redis is None or time.monotonic() - self._last_beat < parley_settings.PRESENCE_TTL / 3:
            return False
        self._last_beat = time.monotonic()
        return True

    async def heartbeat(self) -> None:
        """Renew this hub's claims."""
        if self._redis is None:
            return
        pipe = self._redis.pipeline(transaction=False)
        until = time.time() + parley_settings.PRESENCE_TTL
        for room_id, people in self._people.items():
            for key, person in people.items():
                pipe.zadd(self._key(room_id), {self._member(key, person): until})
            pipe.expire(self._key(room_id), int(parley_settings.PRESENCE_TTL * 2))
        await self._quietly(pipe.execute())

    async def expired(self, room_ids: list[int]) -> list[tuple[int, Person]]:
        """Remove other hubs' expired claims in these rooms; who is thereby gone from which room.

        Of several hubs finding the same expired claim, only the one whose removal succeeds reports it.
        """
        if self._redis is None:
            return []
        gone: list[tuple[int, Person]] = []
        for room_id in room_ids:
            stale = await self._quietly(self._redis.zrangebyscore(self._key(room_id), "-inf", time.time()))
            for member in stale or []:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.zrem(self._key(room_id), member)
                    pipe.zrangebyscore(self._key(room_id), time.time(), "+inf")
                    result = await self._quietly(pipe.execute())
                if not result or not result[0]:
                    continue
                claim = json.loads(member)
                if not any(json.loads(live)[0] == claim[0] for live in result[1]):
                    gone.append((room_id, _person(claim)))
        return gone

    async def _claim_and_read(self, room_id: int, key: str, person: Person) -> list[list[Any]]:
        assert self._redis is not None
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._key(room_id), {self._member(key, person): time.time() + parley_settings.PRESENCE_TTL})
            pipe.expire(self._key(room_id), int(parley_settings.PRESENCE_TTL * 2))
            pipe.zrangebyscore(self._key(room_id), time.time(), "+inf")
            result = await pipe.execute()
        return [json.loads(member) for member in result[2]]

    async def _release_and_read(self, room_id: int, key: str, person: Person) -> list[list[Any]]:
        assert self._redis is not None
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._key(room_id), self._member(key, person))
            pipe.zrangebyscore(self._key(room_id), time.time(), "+inf")
            result = await pipe.execute()
        return [json.loads(member) for member in result[1]]

    def _member(self, key: str, person: Person) -> str:
        return json.dumps([key, self.hub_id, person["name"], person["id"], person["guest"]], separators=(",", ":"))

    @staticmethod
    def _key(room_id: int) -> str:
        return f"{parley_settings.KEY_PREFIX}:presence:{room_id}"

    @staticmethod
    async def _quietly(operation: Any) -> Any:
        """Redis being away costs accuracy of presence, never a socket: log, and carry on."""
        try:
            return await operation
        except Exception:
            logger.warning("presence could not reach Redis", exc_info=True)
            return None


def _person(claim: list[Any]) -> Person:
    return {"id": claim[3], "name": claim[2], "guest": claim[4]}
