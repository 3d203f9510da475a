"""What storing a message sets in motion besides its fan-out, registered by the packages that do it.

``message_post`` calls ``message_followups`` once per stored message, inside its transaction, and
``message_edit`` calls ``message_edit_followups`` once per edit that changed a body.
Webhooks, mentions and direct-message badges sit above the rooms package and import it; they
register here (``ParleyConfig.ready`` registers Parley's own) so that rooms never imports them and
the floors do not loop (``docs/architecture.md``). A followup runs in the message's transaction:
it stores what must be durable with the message and defers the rest to after commit.
"""

from __future__ import annotations

from typing import Protocol

from parley.rooms.models import Message


class MessageFollowup(Protocol):
    """A function called with each stored message, inside the transaction that stores it."""

    def __call__(self, *, message: Message) -> None: ...


class Followups:
    """Followups called, in the order they were registered, once each per message."""

    def __init__(self) -> None:
        self._followups: list[MessageFollowup] = []

    def register(self, *followups: MessageFollowup) -> None:
        """Call each of ``followups`` for every message from now on (a second registration is ignored)."""
        for followup in followups:
            if followup not in self._followups:
                self._followups.append(followup)

    def __call__(self, message: Message) -> None:
        for followup in self._followups:
            followup(message=message)


message_followups = Followups()
"""Run for every stored message by ``message_post``; register with ``message_followups.register``."""

message_edit_followups = Followups()
"""Run by ``message_edit`` for every edit that changed a body, with the message as edited: an edit
that names someone new notifies them (``parley.mentions``)."""
