from __future__ import annotations

from django.apps import AppConfig


class TasksConfig(AppConfig):
    """Background work: the ``parley.tasks`` channel, its consumer and ``runworker``."""

    name = "parley.tasks"
    label = "tasks"
    verbose_name = "Background tasks"
