"""Starting each server process's task runner with its first connection.

Sockets start it inside Parley's routes (``parley.routing.parley_route``), and HTTP requests through
``request_started``, which Django's ASGI handler sends on the event loop: so a host needs nothing
of its own for mentions and webhooks to run, whatever its ASGI router looks like.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_started

from parley.tasks.queue import tasks_start


class TasksMiddleware:
    """Wraps an ASGI application: every scope it takes (a socket, the worker's channel) makes sure
    this event loop's task client runs (a dictionary look-up once it does)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        tasks_start()
        return await self.application(scope, receive, send)


async def tasks_start_on_request(sender: type, **kwargs: Any) -> None:
    """``request_started`` receiver for ``ASGIHandler`` only (``tasks_on_requests_start``): awaited
    on the server's event loop, it makes sure the loop's task client runs."""
    tasks_start()


def tasks_on_requests_start() -> None:
    """Connect ``tasks_start_on_request``, called once from ``ParleyConfig.ready``.

    Connected for the sender ``ASGIHandler`` alone: a synchronous ``send`` (WSGI, Django's test
    client) would run an async receiver through ``async_to_sync`` on every request, and a WSGI
    process has no lasting event loop to run the tasks on anyway.
    """
    request_started.connect(tasks_start_on_request, sender=ASGIHandler, dispatch_uid="parley.tasks.start")
