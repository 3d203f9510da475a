"""Every error of the HTTP API as one JSON shape: ``{"code": …, "detail": …}``.

The codes are the WebSocket protocol's (``parley.wire.errors.ErrorCode``), each with its HTTP
status; ``detail`` is a sentence a person can act on. Views and services refuse by raising
``ParleyError`` (or a subclass), which one handler translates; the others turn whatever else a
view, an auth check or django-ninja itself can raise into the same shape, so a client never has
to parse anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import Field

from parley.wire.errors import HTTP_STATUS, ErrorCode, ParleyError

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("django.security")

CODE_OF_STATUS: dict[int, ErrorCode] = {status: code for code, status in HTTP_STATUS.items()}
CODE_OF_STATUS[401] = "forbidden"

HOW_TO_AUTHENTICATE = (
    "Send 'Authorization: Bearer <token>' with an API token (POST /api/tokens or "
    "'manage.py issuetoken'), or sign in and use the session cookie."
)


class ErrorOut(Schema):
    """What every error response of the API carries."""

    code: ErrorCode = Field(
        description="invalid, forbidden, not_found, too_large, rate_limited, unavailable or internal."
    )
    detail: str = Field(description="A sentence for people: what was wrong and what to do.")
    retry_after: float | None = Field(
        default=None, description="With rate_limited: seconds after which the same request can succeed."
    )


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The ``response=`` entries of an operation for these error statuses, plus those every call can get."""
    return dict.fromkeys(sorted({400, 401, 429, 500, 503, *statuses}), ErrorOut)


def error_response(api: NinjaAPI, request: HttpRequest, error: ParleyError) -> HttpResponse:
    """``error`` as the API answers it: its code and sentence as JSON, with its HTTP status (and
    ``Retry-After`` with ``rate_limited``)."""
    body: dict[str, Any] = {"code": error.code, "detail": error.detail}
    if error.retry_after is not None:
        body["retry_after"] = error.retry_after
    response = api.create_response(request, body, status=error.http_status)
    if error.retry_after is not None:
        response["Retry-After"] = str(max(1, -int(-error.retry_after // 1)))  # whole seconds, rounded up
    return response


def body_too_large_detail() -> str:
    """The sentence for a request body over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).replace("\xa0", " ")
    return f"The request body is larger than the {limit} the server reads; nothing was done. Send less."


def describe_validation_errors(errors: Iterable[dict[str, Any]]) -> ParleyError:
    """The first of django-ninja's validation errors as a ``ParleyError`` naming the field."""
    error = next(iter(errors), {"loc": (), "msg": "is not valid", "type": "value_error"})
    raw_ctx = error.get("ctx")
    ctx: dict[str, Any] = raw_ctx if isinstance(raw_ctx, dict) else {}
    loc = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if error.get("type") == "value_error" and loc[:1] == ["body"] and len(loc) <= 2:
        return ParleyError("invalid", f"{message}.")  # a rule about the body as a whole, already a sentence
    if error.get("type") == "missing":
        message = "is required"
    elif error.get("type") == "string_pattern_mismatch" and ("slug" in loc or "rooms" in loc):
        message = "must be a room slug: 1 to 64 letters, digits, '-' or '_'"
    elif error.get("type") == "string_pattern_mismatch" and r"\x00-\x08" in str(ctx.get("pattern")):
        message = "must not contain control characters other than tab and newline"
        if r"[^\s" in str(ctx.get("pattern")):
            message = "must not be blank, nor contain control characters other than tab and newline"
    elif error.get("type") == "string_too_long":
        message = f"is too long: the limit is {ctx.get('max_length')} characters"
    elif message[:1].isupper():
        message = f"is not valid: {message[:1].lower()}{message[1:]}"
    # A message body over the limit is too_large (413), as on the WebSocket; other long fields are invalid.
    too_large = error.get("type") == "string_too_long" and loc[:1] == ["body"] and loc[-1:] == ["body"]
    code: ErrorCode = "too_large" if too_large or error.get("type") == "too_large" else "invalid"
    return ParleyError(code, f"{_where(loc)} {message}.")


def _where(loc: list[str]) -> str:
    if not loc:
        return "The request"
    place, rest = loc[0], loc[1:]
    if place == "body":
        # ninja's loc is ("body", <parameter name>, field, …); the parameter name means nothing to clients.
        fields = rest[1:]
        return f"Field {'.'.join(fields)!r} of the JSON body" if fields else "The JSON body"
    if place == "query":
        return f"Query parameter {'.'.join(rest)!r}"
    if place == "path":
        return f"The {'.'.join(rest)!r} part of the URL"
    if place == "header":
        name = ".".join(rest).replace("_", "-")
        return f"Header {'-'.join(part.capitalize() for part in name.split('-'))!r}"
    return f"{place.capitalize()} {'.'.join(rest)!r}"


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every error ``api`` answers an ``ErrorOut`` with the matching status."""

    def on_refusal(request: HttpRequest, exc: ParleyError) -> HttpResponse:
        return error_response(api, request, exc)

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return error_response(api, request, describe_validation_errors(exc.errors))

    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        if request.headers.get("Authorization"):
            detail = "The Authorization header holds no active API token (unknown, revoked, or not 'Bearer <token>'). "
        else:
            detail = "This endpoint needs a signed-in user. "
        return error_response(api, request, ParleyError("forbidden", detail + HOW_TO_AUTHENTICATE, status=401))

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = CODE_OF_STATUS.get(exc.status_code, "invalid" if exc.status_code < 500 else "internal")
        detail = str(exc)
        if detail == "Cannot parse request body":
            detail = "The request body is not valid JSON; send one JSON object with 'Content-Type: application/json'."
        elif not detail.endswith("."):
            detail += "."
        return error_response(api, request, ParleyError(code, detail, status=exc.status_code))

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # Raised by Django when the body is read: too large is the client's to fix, not a server
        # failure, so it is answered without a traceback; the rest are logged as Django logs them.
        if isinstance(exc, RequestDataTooBig):
            return error_response(api, request, ParleyError("too_large", body_too_large_detail()))
        security_logger.warning("API request %s %s refused: %s", request.method, request.path, exc)
        return error_response(api, request, ParleyError("invalid", f"The request was refused: {exc}"))

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, ParleyError("not_found", "There is nothing at this address."))

    def on_database_down(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.warning("API request %s %s: database unavailable: %s", request.method, request.path, exc)
        detail = "The database is not reachable right now; nothing was done. Retry in a few seconds."
        return error_response(api, request, ParleyError("unavailable", detail))

    def on_anything_else(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API request %s %s failed", request.method, request.path)
        detail = "Something went wrong on the server; it has been logged. Retry later or report it."
        return error_response(api, request, ParleyError("internal", detail))

    handlers: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
        (ParleyError, on_refusal),  # every refusal of every service, whatever its subclass
        (ValidationError, on_validation),
        (AuthenticationError, on_unauthenticated),
        (HttpError, on_http_error),
        (SuspiciousOperation, on_suspicious),
        (Http404, on_not_found),
        (OperationalError, on_database_down),
        (InterfaceError, on_database_down),
        (Exception, on_anything_else),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)
