"""Parley's pages and HTTP API, under any prefix the host mounts them at: ``path("chat/", include("parley.urls"))``.

URL names live in the namespace ``parley`` (``reverse("parley:room", kwargs={"slug": "lobby"})``,
``reverse("parley:api:api-root")``), so they never answer for the host's own ``index`` or ``search``.
The WebSocket routes are ``parley.routing``'s, mounted by the host's ASGI router at the same prefix.
"""

from __future__ import annotations

from django.urls import include, path

app_name = "parley"

urlpatterns = [
    path("api/", include("parley.api.urls")),
    path("search/", include("parley.search.urls")),
    path("", include("parley.web.urls")),
]
