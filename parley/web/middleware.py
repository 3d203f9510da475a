"""A form posted to a page with more data than Django reads answers 413 with a page.

Django raises ``RequestDataTooBig`` when something first reads such a body; on a page that is
``CsrfViewMiddleware``, before any view, and Django answers 400 and logs a traceback as an error.
This middleware, listed just before ``CsrfViewMiddleware``, reads the form first, exactly when
that middleware would (a POST to a view it checks), and answers a too-large one itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class RequestTooLargeMiddleware:
    """Answer 413 with a page, instead of 400 and an error in the log, for a form over the limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        """Read a POST's form where the CSRF check is about to; a body over the limit ends here."""
        if request.method != "POST" or getattr(view, "csrf_exempt", False):
            return None  # nothing reads the body before the view: the view (the API's) answers itself
        try:
            request.POST  # noqa: B018 - reading it is the point
        except RequestDataTooBig:
            return render(request, "parley/too_large.html", {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}, status=413)
        return None
