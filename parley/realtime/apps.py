from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The transport: WebSocket consumers, the fan-out hub and the protocol schemas."""

    name = "parley.realtime"
    label = "realtime"
    verbose_name = "Real-time transport"

    def ready(self) -> None:
        from parley.realtime.daphne_compat import allow_standard_close_codes

        allow_standard_close_codes()
