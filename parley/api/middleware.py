"""The API's JSON for the answers made before or around django-ninja's operations.

Errors an operation raises go through the handlers of ``errors.py``. Two answers never reach them:
an address under the API's prefix that no route matches (Django's 404 page) and a method a route
does not have (django-ninja's plain-text 405). This middleware gives both the ``ErrorOut`` shape,
so a client of the API never has to parse HTML.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from parley.api.errors import ApiError, error_response


class ApiErrorsMiddleware:
    """Under the API's prefix (wherever the host mounted it), 404 and 405 answers that are not JSON become JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._prefix: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code not in (404, 405) or response.get("Content-Type", "").startswith("application/json"):
            return response
        if not request.path.startswith(self.prefix):
            return response
        return self._as_json(request, response)

    @property
    def prefix(self) -> str:
        # Resolved on first use: the URLconf is not loaded yet when middleware is built.
        if self._prefix is None:
            self._prefix = reverse("api:api-root")
        return self._prefix

    def _as_json(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        from parley.api.api import api  # the API imports every router; only needed on this rare path

        if response.status_code == 404:
            detail = f"There is no API endpoint at {request.path}; {self.prefix}docs lists them."
            return error_response(api, request, ApiError("not_found", detail))
        allowed = sorted(method.strip() for method in response.get("Allow", "").split(",") if method.strip())
        detail = f"{request.method} is not allowed at {request.path}; use {' or '.join(allowed) or 'another address'}."
        answer = error_response(api, request, ApiError("invalid", detail, status=405))
        answer["Allow"] = ", ".join(allowed)
        return answer
