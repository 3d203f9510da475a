"""``parley.realtime.uvicorn_compat.release_handshake``: what Uvicorn's WebSocket protocol keeps of the
handshake is let go once the socket is open, checked against a real Uvicorn server in the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from websockets.asyncio.client import connect

from parley.realtime.uvicorn_compat import release_handshake
from tests.servers import free_port

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@asynccontextmanager
async def uvicorn_serving(app: App) -> AsyncIterator[str]:
    """Serve ``app`` with Uvicorn's sans-I/O WebSocket protocol; yield its ``ws://`` address."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, ws="websockets-sansio", lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "Uvicorn stopped before it started"
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await serving


def echo_after_release(seen: dict[str, Any]) -> App:
    """An app that accepts, calls ``release_handshake``, notes what the protocol kept, then echoes."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        protocol = send.__self__
        kept = getattr(protocol, "request", None)
        release_handshake(send)
        seen.update(
            request=getattr(protocol, "request", "absent"),
            response=getattr(protocol, "response", "absent"),
            request_headers=None if kept is None else len(kept.headers),
            scope_headers=len(scope["headers"]),
        )
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message["text"]})

    return app


async def test_the_handshake_is_let_go_once_accepted_and_the_socket_works_on() -> None:
    seen: dict[str, Any] = {}
    async with uvicorn_serving(echo_after_release(seen)) as url, connect(url) as ws:
        await ws.send("hello")
        assert await ws.recv() == "hello"
    assert seen["request"] is None
    assert seen["response"] is None
    # The parser's own reference to the request is emptied; the application's scope keeps its copy.
    assert seen["request_headers"] == 0
    assert seen["scope_headers"] > 0


async def test_a_send_that_is_not_uvicorns_is_left_alone() -> None:
    async def send(message: dict[str, Any]) -> None:
        pass

    release_handshake(send)  # no protocol behind it: nothing to do, nothing raised
