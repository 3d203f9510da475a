"""The worker process behind ``manage.py runworker parley.tasks``."""

from __future__ import annotations

import logging

from channels.worker import Worker

from parley.conf import parley_settings

logger = logging.getLogger(__name__)


class TaskWorker(Worker):  # type: ignore[misc]
    """Channels' ``Worker``, but the consumers of its channels start with the process.

    Channels makes a channel's application instance when the first message arrives; Parley's task
    consumer also sweeps the database for due work, which must resume when a restarted worker comes
    up, not whenever the next message happens to be queued.
    """

    async def handle(self) -> None:
        if not parley_settings.REDIS_URL:
            logger.warning(
                "REDIS_URL is not set: this worker cannot see who is connected to the servers, so every "
                "mentioned user counts as away and is e-mailed"
            )
        for channel in self.channels:
            self.get_or_create_application_instance(channel, {"type": "channel", "channel": channel})
        await super().handle()
