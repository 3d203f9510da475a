"""Say once that a dependency is down, and once that it is back: never once per failed message."""

from __future__ import annotations

import logging
from collections.abc import Callable

from parley.monitoring.metrics import LAYER_RECONNECTS

logger = logging.getLogger("parley.outages")


class Outage:
    """The state of one dependency (the database, the channel layer) as this process sees it."""

    def __init__(self, what: str, consequence: str, on_recovery: Callable[[], object] | None = None) -> None:
        self.what = what
        self.consequence = consequence
        self.on_recovery = on_recovery
        self.down = False
        # Every failure counts, logged or not: a hub compares it with the count when it last
        # joined its groups, since a failure someone else recovered from may still have cost them.
        self.failures = 0

    def failed(self) -> None:
        """Record a failure; only the first of an outage is logged, with its traceback."""
        self.failures += 1
        if not self.down:
            self.down = True
            logger.error(
                "%s is unreachable: %s", self.what, self.consequence, exc_info=True, extra={"dependency": self.what}
            )

    def recovered(self) -> None:
        """Record a success; the first after an outage is logged."""
        if self.down:
            self.down = False
            logger.warning("%s answers again", self.what, extra={"dependency": self.what, "failures": self.failures})
            if self.on_recovery is not None:
                self.on_recovery()


DATABASE = Outage("the database", "sends are answered 'unavailable' and gaps are repaired once it is back")
CHANNEL_LAYER = Outage(
    "the channel layer", "messages are still stored; subscribers catch up from storage", LAYER_RECONNECTS.inc
)
