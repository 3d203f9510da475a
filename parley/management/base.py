"""The base of Parley's management commands: a refusal a service raises ends the command as an error.

A ``ParleyError`` becomes Django's ``CommandError`` with the refusal's sentence, so the command
prints that sentence (not a traceback) and exits with status 1, as the API answers it with JSON and
the socket with an ``error`` frame. Host projects' commands that call Parley's services can derive
from it too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from parley.wire.errors import ParleyError


class ParleyCommand(BaseCommand):
    """A ``BaseCommand`` whose ``ParleyError`` ends it as a ``CommandError`` with the error's sentence."""

    def execute(self, *args: Any, **options: Any) -> str | None:
        """Run the command (``handle``), translating a refusal into a ``CommandError``."""
        try:
            return super().execute(*args, **options)
        except ParleyError as error:
            raise CommandError(error.detail) from error
