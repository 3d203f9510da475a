"""The HTTP API: one ``NinjaAPI`` under ``/api/`` (``config/urls.py``), OpenAPI at ``/api/openapi.json``,
interactive docs at ``/api/docs``.

Routers are registered at the end of this module, one ``api.add_router("", <module>.router)`` line
per area; each area module (``rooms.py``, ``notifications.py``, …) holds its router, schemas and
thin views. Every operation uses ``API_AUTH`` (a bearer token, else the Django session with CSRF)
unless it passes its own ``auth=``, and every error is an ``ErrorOut`` (``errors.py``).
"""

from __future__ import annotations

from ninja import NinjaAPI

from parley.api import (
    attachments,
    dms,
    exports,
    mentions,
    moderation,
    notifications,
    publish,
    rooms,
    search,
    tokens,
    webhooks,
)
from parley.api.auth import API_AUTH
from parley.api.errors import install_error_handlers

api = NinjaAPI(
    title="Parley API",
    version="1",
    description=(
        "Rooms, messages, notifications, API tokens and server-side publish. Authenticate with "
        "'Authorization: Bearer <token>' or a signed-in Django session (send X-CSRFToken on unsafe methods). "
        "Guests cannot use the API. Every error is {code, detail} with the WebSocket protocol's codes."
    ),
    auth=API_AUTH,
    urls_namespace="parley:api",  # mounted by parley.urls (namespace "parley") at api/
)
install_error_handlers(api)

api.add_router("", rooms.router)
api.add_router("", notifications.router)
api.add_router("", tokens.router)
api.add_router("", publish.router)
api.add_router("", webhooks.router)
api.add_router("", search.router)
api.add_router("", mentions.router)
api.add_router("", moderation.router)
api.add_router("", dms.router)
api.add_router("", attachments.router)
api.add_router("", exports.router)
