"""What storing a message sets in motion besides its fan-out, registered by the packages that do it.

``message_post`` calls ``message_followups`` once per stored message, inside its transaction.
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


_followups: list[MessageFollowup] = []


def message_followups_register(*followups: MessageFollowup) -> None:
    """Call each of ``followups`` for every message stored from now on, in this order (once each)."""
    for followup in followups:
        if followup not in _followups:
            _followups.append(followup)


def message_followups(message: Message) -> None:
    """Run every registered followup for ``message`` (called by ``message_post``)."""
    for followup in _followups:
        followup(message=message)
