"""WebSocket routes: protocol v1 at ``/ws/``, the article's protocol at ``/ws/chat/<room>/``."""

from __future__ import annotations

from channels.routing import URLRouter
from channels.security.websocket import WebsocketDenier
from django.urls import path, re_path

from parley.realtime.auth import websocket_stack
from parley.realtime.consumers import ParleyConsumer, TutorialChatConsumer

websocket_urlpatterns = [
    path("ws/", ParleyConsumer.as_asgi()),
    re_path(r"^ws/chat/(?P<room>[A-Za-z0-9_-]{1,64})/$", TutorialChatConsumer.as_asgi()),
    # Any other path is refused at the handshake instead of raising "No route found".
    re_path(r"", WebsocketDenier.as_asgi()),
]

websocket_application = websocket_stack(URLRouter(websocket_urlpatterns))
