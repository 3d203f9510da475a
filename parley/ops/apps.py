from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations endpoints: health, readiness and Prometheus metrics."""

    name = "parley.ops"
    label = "ops"
    verbose_name = "Operations"
