"""The search results page, for signed-in users: the same selector as GET /api/search."""

from __future__ import annotations

import re
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from parley.accounts.identity import user_identity
from parley.rooms.models import SLUG_PATTERN
from parley.search.query import MAX_QUERY
from parley.search.selectors import MAX_LIMIT, messages_search
from parley.wire.errors import ParleyError


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """``/search/?q=…&room=…``: the hits, best first, with the matching words marked."""
    q = request.GET.get("q", "")
    room = request.GET.get("room", "") or None
    context: dict[str, object] = {"q": q, "room": room, "max_query": MAX_QUERY, "hits": None, "error": None}
    if room is not None and not re.match(SLUG_PATTERN, room):
        context["error"] = "Room names are 1 to 64 letters, digits, '-' or '_'."
        return render(request, "parley/search/results.html", context, status=400)
    if not q.strip():
        return render(request, "parley/search/results.html", context)
    try:
        hits = messages_search(
            identity=user_identity(request.user),  # type: ignore[arg-type]
            q=q,
            room_slug=room,
            limit=MAX_LIMIT,
        )
    except ParleyError as error:  # a query that cannot be searched for, or a room that cannot be read
        context["error"] = error.detail
        return render(request, "parley/search/results.html", context, status=error.http_status)
    for hit in hits:
        hit["when"] = datetime.fromisoformat(hit["created_at"])  # shown in the site's time zone
    context["hits"] = hits
    return render(request, "parley/search/results.html", context)
