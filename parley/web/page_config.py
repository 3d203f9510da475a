"""The addresses Parley's scripts use, from the URLconf: the pages and the API under any prefix.

Rendered once into every page that runs Parley's scripts as ``<script type="application/json"
id="parley-urls">`` by ``{% parley_config %}`` (``{% load parley %}``; ``{% parley_assets %}`` in
``parley/page.html`` and ``{% parley_bell %}`` render it too, when the page lacks it); the scripts read it
through ``parley/static/parley/config.js`` and never write a path of their own.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from parley.conf import parley_settings

# A slug no room has, replaced by the script with the room's own (``roomUrl(slug)`` in config.js).
ROOM_PLACEHOLDER = "__room__"


def page_urls() -> dict[str, str]:
    """``index``, ``search``, ``room`` (with ``__room__`` for the slug), ``api`` (its root, ending
    in ``/``) and ``websocket`` (a path: the socket's route lives in the ASGI router, not the
    URLconf, so it is ``PARLEY["WEBSOCKET_PATH"]``, or by default ``ws/`` beside the pages, where
    ``parley.routing``'s routes are when the host mounts them at the pages' prefix)."""
    try:
        api = reverse("parley:api:api-root")
    except NoReverseMatch:  # a host that mounts the pages without Parley's HTTP API
        api = ""
    return {
        "index": reverse("parley:index"),
        "search": reverse("parley:search"),
        "room": reverse("parley:room", kwargs={"slug": ROOM_PLACEHOLDER}),
        "api": api,
        "websocket": parley_settings.WEBSOCKET_PATH or f"{reverse('parley:index')}ws/",
    }
