"""``parley.routing.websocket_urlpatterns`` inside a host's own ASGI router, as the README's
"Add Parley to your project" shows: under the host's ``AuthMiddlewareStack``, at a prefix, beside
the host's own consumer, with no catch-all; and a server's first HTTP request starts its task runner."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.core.asgi import get_asgi_application
from django.urls import path

import parley.routing
from conftest import HOST, ORIGIN, Communicator, session_cookie
from parley.realtime.sockets import CLOSE_NOT_AUTHENTICATED
from parley.tasks import queue

pytestmark = pytest.mark.django_db(transaction=True)


class EchoConsumer(AsyncWebsocketConsumer):
    """The host's own consumer."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=f"echo: {text_data}")


def host_application() -> ProtocolTypeRouter:
    return ProtocolTypeRouter(
        {
            "http": get_asgi_application(),
            "websocket": AuthMiddlewareStack(
                URLRouter(
                    [
                        path("chat/", URLRouter(parley.routing.websocket_urlpatterns)),
                        path("ws/echo/", AllowedHostsOriginValidator(EchoConsumer.as_asgi())),
                    ]
                )
            ),
        }
    )


async def connected(path: str, headers: list[tuple[bytes, bytes]], kind: type = Communicator) -> WebsocketCommunicator:
    communicator = kind(host_application(), path, headers=headers)
    accepted, _ = await communicator.connect(timeout=5)
    assert accepted, path
    return communicator


async def whoami(socket: WebsocketCommunicator) -> dict:
    """What the socket is signed in as: a user's socket has notifications, a guest's is refused them."""
    await socket.send_json_to({"type": "notifications", "ref": "n"})
    return await socket.receive_json_from(timeout=3)


async def test_the_host_session_signs_in_parleys_socket_under_the_hosts_prefix(make_user):
    alice = await sync_to_async(make_user)("alice")
    cookie = await sync_to_async(session_cookie)(alice)
    socket = await connected("/chat/ws/", [(b"origin", ORIGIN), (b"host", HOST), (b"cookie", cookie)])
    assert (await whoami(socket))["type"] == "notifications"
    await socket.disconnect()


async def test_without_origin_the_hosts_session_is_not_acted_on(make_user, settings):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": False}
    alice = await sync_to_async(make_user)("alice")
    cookie = await sync_to_async(session_cookie)(alice)
    # The host's AuthMiddlewareStack has read the cookie by the time Parley's route sees the
    # handshake; a client that sends no Origin still gets no session from it.
    socket = await connected("/chat/ws/", [(b"host", HOST), (b"cookie", cookie)])
    error = await socket.receive_json_from(timeout=3)
    assert (error["type"], error["code"]) == ("error", "forbidden"), error
    assert (await socket.receive_output(timeout=3))["code"] == CLOSE_NOT_AUTHENTICATED


async def test_the_article_endpoint_and_the_hosts_own_route_answer_beside_parleys(make_room):
    await sync_to_async(make_room)("lobby", guests_allowed=True)
    tutorial = await connected("/chat/ws/chat/lobby/", [(b"origin", ORIGIN), (b"host", HOST)])
    await tutorial.disconnect()
    echo = await connected("/ws/echo/", [(b"origin", ORIGIN), (b"host", HOST)], kind=WebsocketCommunicator)
    await echo.send_to(text_data="hi")
    assert await echo.receive_from(timeout=3) == "echo: hi"
    await echo.disconnect()


async def test_a_path_parley_does_not_serve_is_left_to_the_host():
    # No catch-all in Parley's routes: the host's router answers for the rest (Channels raises).
    communicator = Communicator(host_application(), "/chat/elsewhere/", headers=[(b"origin", ORIGIN), (b"host", HOST)])
    with pytest.raises(ValueError, match="No route found"):
        await communicator.connect(timeout=5)


async def test_a_servers_first_http_request_starts_its_task_runner():
    loop = asyncio.get_running_loop()
    queue._clients.pop(loop, None)
    request = HttpCommunicator(host_application(), "GET", "/healthz", headers=[(b"host", HOST)])
    assert (await request.get_response(timeout=10))["status"] == 200
    assert loop in queue._clients
