from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from parley.management.base import ParleyCommand
from parley.rooms.services import room_get_or_create


class Command(ParleyCommand):
    help = "Create the room SLUG if it does not exist (an existing room is left as it is)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--title", default="")
        parser.add_argument("--private", action="store_true", help="Only members can see the room.")
        parser.add_argument("--guests", action="store_true", help="Guests may read and post.")

    def handle(self, *args: Any, slug: str, title: str, private: bool, guests: bool, **options: Any) -> None:
        try:
            result = room_get_or_create(slug=slug, title=title, is_private=private, guests_allowed=guests)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"{'created' if result.created else 'exists'} {result.room.slug}")
