"""A site: one seeded database (rooms, users with API tokens) and the servers started on it."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import ServerProcess, manage

# Runs inside `manage.py shell`: one process creates everything, through Parley's own services.
SEED_SCRIPT = """
import json, os
from parley.accounts.services import token_issue, user_get_or_create
from parley.rooms.services import membership_join, room_get_or_create

spec = json.loads(os.environ["PARLEY_E2E_SEED"])
users = {}
for name, options in spec["users"].items():
    users[name] = user_get_or_create(username=name, is_staff=options["staff"], password=options["password"])
for room in spec["rooms"]:
    result = room_get_or_create(slug=room["slug"], is_private=room["private"], guests_allowed=room["guests"])
    for member in room["members"]:
        membership_join(room=result.room, user=users[member])
seeded = {}
for name, user in users.items():
    seeded[name] = {"id": user.pk, "token": token_issue(user=user, name="e2e").secret}
print(json.dumps(seeded))
"""


@dataclass(frozen=True)
class RoomSpec:
    """A room to create: ``RoomSpec("vault", private=True, members=("alice",))``."""

    slug: str
    private: bool = False
    guests: bool = False
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserSpec:
    """A user to create, with an API token."""

    name: str
    staff: bool = False
    password: str | None = None


@dataclass(frozen=True)
class SeededUser:
    id: int
    name: str
    token: str


@dataclass
class Site:
    """A seeded database and the servers started on it (the fixture that made it stops them)."""

    name: str
    env: dict[str, str]
    users: dict[str, SeededUser]
    logs: Path
    servers: list[ServerProcess] = field(default_factory=list)

    def start(self, kind: str = "daphne", **env_overrides: str) -> ServerProcess:
        """Start Daphne (or ``kind="uvicorn"``) on this site's database, with extra environment."""
        log = self.logs / f"{self.name}-server-{len(self.servers)}-{kind}.log"
        server = ServerProcess(env={**self.env, **env_overrides}, log=log, kind=kind)
        self.servers.append(server)
        return server.start()

    def token(self, name: str) -> str:
        return self.users[name].token


def seed(env: dict[str, str], rooms: tuple[RoomSpec, ...], users: tuple[UserSpec, ...]) -> dict[str, SeededUser]:
    """Create ``rooms`` and ``users`` in the database ``env`` names; return each user's id and token."""
    spec = {
        "users": {user.name: {"staff": user.staff, "password": user.password} for user in users},
        "rooms": [
            {"slug": room.slug, "private": room.private, "guests": room.guests, "members": list(room.members)}
            for room in rooms
        ],
    }
    output = manage({**env, "PARLEY_E2E_SEED": json.dumps(spec)}, "shell", "-c", SEED_SCRIPT)
    seeded = json.loads(output.strip().splitlines()[-1])
    return {name: SeededUser(id=value["id"], name=name, token=value["token"]) for name, value in seeded.items()}


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database consistently, whatever its journal holds."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
