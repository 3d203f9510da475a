"""Starting each server process's task runner with its first connection."""

from __future__ import annotations

from typing import Any

from parley.tasks.queue import tasks_start


class TasksMiddleware:
    """Wraps the ASGI application: every scope (a request, a socket, Uvicorn's lifespan at start,
    the worker's channel) makes sure this event loop's task client runs (a dictionary look-up
    once it does)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        tasks_start()
        return await self.application(scope, receive, send)
