"""The in-memory channel layer Parley runs with on ``memory://`` (one process, the default).

Channels' ``InMemoryChannelLayer`` looks through every channel and every group for expired
entries on each ``group_send``. The hub sends to a group for every stored message, so that walk
ran per message, and with a few hundred rooms followed it showed plainly in the many-rooms
benchmark's profile. Expired messages and memberships need not vanish to the millisecond (they
live 60 s and a day), so here the walk runs at most once a second.
"""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer

CLEAN_EVERY = 1.0  # seconds between two walks for expired messages and memberships


class ThrottledInMemoryChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]
    """``InMemoryChannelLayer`` with its expiry walk at most once every ``CLEAN_EVERY`` seconds."""

    _next_clean = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_clean:
            return
        self._next_clean = now + CLEAN_EVERY
        super()._clean_expired()
