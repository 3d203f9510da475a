"""Who is in a room: the people with at least one socket following it, on any server process.

A person (a user, or a guest) is present in a room while any of their sockets follows it; three
tabs are one person, and the last tab closing is when they leave. Each hub counts its own sockets.
With ``REDIS_URL`` set, each hub also claims its people in a sorted set per room, scored with the
time the claim ends; its heartbeat renews the claims, so the people of a process that crashed drop
out within about ``PARLEY_PRESENCE_TTL`` seconds, when another hub finds their claims expired.
Without Redis, presence is this process's own (the in-memory layer serves one process anyway).

Whether someone *arrived* or *left* everywhere is decided in one Redis transaction each (add or
remove this hub's claim, then read the room's live claims), so of two processes racing, exactly one
sees the person arrive first or leave last, and announces it. The claims are
``parley.presence.claims``', as those of who is online are.
"""

from __future__ import annotations

import json
from typing import Any

from parley.conf import parley_settings
from parley.presence.claims import ExpiringClaims

Person = dict[str, Any]  # {"id": user id or None, "name": …, "guest": bool}, as a message's author


class PresenceBoard:
    """One hub's share of presence: its own counts, and its claims in Redis when configured."""

    def __init__(self) -> None:
        # Holders are (room id, person key); a claim's member names the person and this hub.
        self.claims = ExpiringClaims(
            "presence",
            ttl=lambda: parley_settings.PRESENCE_TTL,
            # Every third of the TTL, so that a claim survives two missed heartbeats.
            heartbeat_every=lambda: parley_settings.PRESENCE_TTL / 3,
        )
        self._people: dict[int, dict[str, Person]] = {}
        self.hub_id = ""

    async def arrive(self, room_id: int, key: str, person: Person) -> bool:
        """A socket of ``person`` (``Identity.key`` ``key``) follows the room; True if they just arrived."""
        self._people.setdefault(room_id, {})[key] = person
        if not self.claims.hold((room_id, key)):
            return False
        claims = await self.claims.claim_and_read(room_id, self._member(key, person))
        if claims is None:
            return True  # no Redis (or none reachable): this process's count decides
        return not any(claim[0] == key and claim[1] != self.hub_id for claim in map(json.loads, claims))

    async def depart(self, room_id: int, key: str) -> Person | None:
        """A socket of ``key`` stopped following the room; the person if they are now gone."""
        if not self.claims.let_go((room_id, key)):
            return None
        people = self._people[room_id]
        person = people.pop(key)
        if not people:
            del self._people[room_id]
        claims = await self.claims.release_and_read(room_id, self._member(key, person))
        if claims is not None and any(claim[0] == key for claim in map(json.loads, claims)):
            return None  # still here through another process
        return person

    async def people(self, room_id: int) -> list[Person]:
        """Everyone present in the room, each once."""
        present = dict(self._people.get(room_id, {}))
        for claim in map(json.loads, await self.claims.live(room_id)):
            present.setdefault(claim[0], _person(claim))
        return sorted(present.values(), key=lambda person: (person["guest"], person["name"].lower()))

    def due(self) -> bool:
        """Whether it is time for ``heartbeat`` and ``expired``: every third of ``PARLEY_PRESENCE_TTL``,
        so a claim survives two missed heartbeats."""
        return self.claims.due()

    async def heartbeat(self) -> None:
        """Renew this hub's claims."""
        await self.claims.renew(
            (room_id, self._member(key, person))
            for room_id, people in self._people.items()
            for key, person in people.items()
        )

    async def expired(self, room_ids: list[int]) -> list[tuple[int, Person]]:
        """Remove other hubs' expired claims in these rooms; who is thereby gone from which room.

        Of several hubs finding the same expired claim, only the one whose removal succeeds reports it.
        """
        gone: list[tuple[int, Person]] = []
        for room_id in room_ids:
            for member, live in await self.claims.take_expired(room_id):
                claim = json.loads(member)
                if not any(json.loads(other)[0] == claim[0] for other in live):
                    gone.append((room_id, _person(claim)))
        return gone

    def _member(self, key: str, person: Person) -> str:
        return json.dumps([key, self.hub_id, person["name"], person["id"], person["guest"]], separators=(",", ":"))


def _person(claim: list[Any]) -> Person:
    return {"id": claim[3], "name": claim[2], "guest": claim[4]}
