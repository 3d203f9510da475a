from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from orders.services import orders_demo_create
from parley.accounts.services import user_get_or_create
from parley.rooms.services import room_get_or_create

DEMO_USERS = ("alice", "bob")


class Command(BaseCommand):
    help = "Create the demo content: a guest-open room 'lobby', a room 'general' and two users."

    def handle(self, *args: Any, **options: Any) -> None:
        passwords = self._passwords()
        users = [user_get_or_create(username=name, password=passwords[name]) for name in DEMO_USERS]
        room_get_or_create(slug="lobby", title="Lobby", guests_allowed=True, creator=users[0])
        room_get_or_create(slug="general", title="General", creator=users[0])
        self.stdout.write("Demo rooms: lobby (guests welcome), general")
        orders = orders_demo_create(user=users[0])
        self.stdout.write(f"Demo orders of {DEMO_USERS[0]}: {', '.join(f'/orders/{order.pk}/' for order in orders)}")
        for name in DEMO_USERS:
            self.stdout.write(f"Demo user: {name} / {passwords[name]}")

    @staticmethod
    def _passwords() -> dict[str, str]:
        """Random demo passwords, made once and kept beside the database so they stay valid."""
        path = Path(settings.BASE_DIR) / "var" / "demo-passwords.txt"
        if path.exists():
            pairs = (line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)
            saved = {name: password for name, password in pairs}
            if set(DEMO_USERS) <= saved.keys():
                return saved
        passwords = {name: secrets.token_urlsafe(9) for name in DEMO_USERS}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{name} {password}\n" for name, password in passwords.items()))
        return passwords
