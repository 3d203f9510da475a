"""``manage.py check``: what a host project can forget when it adds Parley."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from parley.conf import parley_settings
from parley.redis_urls import url_problem


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
                hint="Set CHANNEL_LAYERS = {'default': {'BACKEND': "
                "'parley.realtime.redis_layer.BatchingRedisPubSubChannelLayer', ...}} "
                "(or 'channels.layers.InMemoryChannelLayer' for a single process).",
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
    redis_problem = _redis_url_problem()
    if redis_problem:
        problems.append(
            Error(f'PARLEY["REDIS_URL"]: {redis_problem}.', hint="See parley.redis_urls.", id="parley.E005")
        )
    return problems


def _redis_url_problem() -> str | None:
    try:
        url: str = parley_settings.REDIS_URL
    except ImproperlyConfigured:
        return None  # reported with the other settings
    return url_problem(url) if url else None
