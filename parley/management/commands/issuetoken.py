from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from parley.accounts.services import token_issue, user_get_or_create
from parley.accounts.users import name_lookup, users
from parley.management.base import ParleyCommand


class Command(ParleyCommand):
    help = "Print a new API token for USERNAME on the last line of output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--create", action="store_true", help="Create the user when it does not exist.")
        parser.add_argument("--staff", action="store_true", help="Make the user staff (may use /api/publish).")
        parser.add_argument("--name", default="issued by manage.py", help="A label for the token.")

    def handle(self, *args: Any, username: str, create: bool, staff: bool, name: str, **options: Any) -> None:
        if staff and not hasattr(users().model, "is_staff"):
            raise CommandError(
                "This project's user model has no is_staff field: grant the user Parley's permissions "
                "(parley.publish_messages, parley.read_all_rooms…) in the admin instead of --staff."
            )
        exists = users().filter(**{name_lookup(): username}).exists()
        if not exists and not create:
            raise CommandError(f"No user named {username!r}; pass --create to create one.")
        user = user_get_or_create(username=username, is_staff=staff)
        issued = token_issue(user=user, name=name)
        self.stdout.write(issued.secret)
