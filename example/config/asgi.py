"""ASGI entry point: ``config.asgi:application`` for Daphne, Uvicorn and Gunicorn's Uvicorn workers."""

from __future__ import annotations

import gc
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

# Everything loaded by now (Django, the apps, their modules: about 100,000 objects) lives as long
# as the process. Frozen, it is left out of the collector's full passes, each of which walked it
# again: with 2,000 sockets connecting, a full pass paused every socket for 180 ms instead of 200.
gc.freeze()
