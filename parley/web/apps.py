from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    """The browser UI: pages, one ES module and one stylesheet."""

    name = "parley.web"
    label = "web"
    verbose_name = "Web UI"
