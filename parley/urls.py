"""Parley's pages, under any prefix the host mounts them at: ``path("", include("parley.urls"))``.

URL names live in the namespace ``parley`` (``reverse("parley:room", kwargs={"slug": "lobby"})``),
so they never answer for the host's own ``index`` or ``search``.
"""

from __future__ import annotations

from django.urls import include, path

app_name = "parley"

urlpatterns = [
    path("search/", include("parley.search.urls")),
    path("", include("parley.web.urls")),
]
