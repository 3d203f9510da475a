"""ASGI entry point: ``config.asgi:application`` for Daphne, Uvicorn and Gunicorn's Uvicorn workers."""

from __future__ import annotations

import os

from channels.routing import ChannelNameRouter, ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django must be set up before anything imports models: the HTTP app first, then the routes.
django_asgi_app = get_asgi_application()

from parley.realtime.routing import websocket_application  # noqa: E402
from parley.tasks.asgi import TasksMiddleware  # noqa: E402
from parley.tasks.consumers import TaskConsumer  # noqa: E402
from parley.tasks.queue import TASKS_CHANNEL  # noqa: E402

application = TasksMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": websocket_application,
            # `manage.py runworker parley.tasks`: background work (parley/tasks).
            "channel": ChannelNameRouter({TASKS_CHANNEL: TaskConsumer.as_asgi()}),
        }
    )
)
