"""Parley's WebSocket routes, for the host's ASGI router.

Mounted beside the pages, as the README shows::

    "websocket": AuthMiddlewareStack(URLRouter([
        path("chat/", URLRouter(parley.routing.websocket_urlpatterns)),
        ...the host's own routes...
    ])),

gives protocol v1 at ``/chat/ws/`` and the article's protocol at ``/chat/ws/chat/<room>/``. There is
no catch-all: any other path is the host's. Everything Parley needs on a socket lives inside each
route (``parley_route``), so a host adds nothing around them; ``AuthMiddlewareStack`` is optional
(Parley reads the session itself when it finds none in the scope).

``channel_routes`` is the ``ChannelNameRouter`` mapping ``manage.py runworker parley.tasks`` reads,
needed only with ``PARLEY["TASKS"] = "worker"``.
"""

from __future__ import annotations

from typing import Any

from django.urls import path, re_path

from parley.realtime.auth import websocket_stack
from parley.realtime.consumers import ParleyConsumer, TutorialChatConsumer
from parley.tasks.asgi import TasksMiddleware
from parley.tasks.consumers import TaskConsumer
from parley.tasks.queue import TASKS_CHANNEL, tasks_start


def parley_route(consumer: Any) -> Any:
    """``consumer`` behind everything a Parley socket needs: this process's task runner started,
    then the Origin rule, the handshake limit and the identity (``websocket_stack``)."""
    # Started by the stack rather than by a ``TasksMiddleware`` around it: a middleware's
    # coroutine lives as long as the socket (``SocketStack``).
    return websocket_stack(consumer, on_connect=tasks_start)


websocket_urlpatterns = [
    path("ws/", parley_route(ParleyConsumer.as_asgi())),
    re_path(r"^ws/chat/(?P<room>[A-Za-z0-9_-]{1,64})/$", parley_route(TutorialChatConsumer.as_asgi())),
]

channel_routes = {TASKS_CHANNEL: TasksMiddleware(TaskConsumer.as_asgi())}
