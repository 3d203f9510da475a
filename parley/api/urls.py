"""The HTTP API's URLs (``parley.urls`` mounts them at ``api/``), answering only in JSON.

Errors an operation raises go through the handlers of ``errors.py``. Two answers never reach them:
an address under the API's prefix that no route matches (Django's HTML 404 page) and a method a
route does not have (django-ninja's plain-text 405). Here the first has a route of its own, last,
and every route of the API is wrapped to give the second the ``ErrorOut`` shape, so a client of
the API never parses HTML, and the host adds no middleware for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path, reverse

from parley.api.api import api
from parley.api.errors import error_response
from parley.wire.errors import ParleyError

View = Callable[..., HttpResponse]


def api_not_found(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """An address under the API's prefix that no route matches."""
    root = reverse("parley:api:api-root")
    detail = f"There is no API endpoint at {request.path}; {root}docs lists them."
    return error_response(api, request, ParleyError("not_found", detail))


def method_not_allowed_as_json(view: View) -> View:
    """``view``, with django-ninja's plain-text 405 answered as ``ErrorOut`` (with ``Allow``)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = sorted(method.strip() for method in response.get("Allow", "").split(",") if method.strip())
        detail = f"{request.method} is not allowed at {request.path}; use {' or '.join(allowed) or 'another address'}."
        answer = error_response(api, request, ParleyError("invalid", detail, status=405))
        answer["Allow"] = ", ".join(allowed)
        return answer

    return wrapped


def _json_only(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    answering: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            view = method_not_allowed_as_json(pattern.callback)
            pattern = URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)
        else:
            pattern.url_patterns[:] = _json_only(pattern.url_patterns)
        answering.append(pattern)
    return answering


_patterns, _app_name, _namespace = api.urls

# django-ninja's own: the operations, ``api-root``, the OpenAPI document and the docs page.
app_name = _namespace
urlpatterns = [*_json_only(_patterns), re_path(r"", api_not_found, name="not-found")]
