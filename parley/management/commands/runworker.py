"""``manage.py runworker parley.tasks``: Channels' command, with consumers that start at once."""

from __future__ import annotations

from channels.management.commands import runworker

from parley.tasks.worker import TaskWorker


class Command(runworker.Command):  # type: ignore[misc]
    help = "Run a worker for channels of the channel layer (Parley's background work: parley.tasks)."
    worker_class = TaskWorker
