"""``manage.py check``: what a host project can forget when it adds Parley."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from parley.conf import parley_settings


@register()
def parley_host_checks(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Channels installed and configured, an ASGI application, and a valid ``PARLEY`` dict."""
    problems: list[CheckMessage] = []
    if not apps.is_installed("channels"):
        problems.append(
            Error(
                "Parley needs Django Channels, which is not in INSTALLED_APPS.",
                hint='Add "channels" to INSTALLED_APPS, next to "parley".',
                id="parley.E001",
            )
        )
    if not getattr(settings, "CHANNEL_LAYERS", None) or "default" not in settings.CHANNEL_LAYERS:
        problems.append(
            Error(
                "CHANNEL_LAYERS has no 'default' layer: Parley's rooms and notifications travel through it.",
                hint='Set CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", ...}} '
                '(or "channels.layers.InMemoryChannelLayer" for a single process).',
                id="parley.E002",
            )
        )
    if not getattr(settings, "ASGI_APPLICATION", None):
        problems.append(
            Error(
                "ASGI_APPLICATION is not set: Parley's WebSockets need an ASGI server and application.",
                hint='Set ASGI_APPLICATION = "mysite.asgi.application", whose router includes '
                "parley.routing.websocket_urlpatterns.",
                id="parley.E003",
            )
        )
    problems.extend(
        Error(message, hint="See the configuration table in Parley's README.", id="parley.E004")
        for message in parley_settings.errors()
    )
    return problems
