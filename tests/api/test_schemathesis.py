"""Schemathesis against the API's own OpenAPI document, in process over WSGI, with a staff token:
every check it has (no 5xx, status codes, content types, headers and bodies as documented, bad
input refused, good input accepted, …), a few examples per operation."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from parley.accounts.services import token_issue, user_get_or_create
from parley.conf import parley_settings
from parley.rooms.services import room_get_or_create

pytestmark = pytest.mark.django_db


# pytest-django has configured Django by the time test modules are imported.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calling the WSGI handler directly fires request_started/finished, whose handler closes the
    database connection, and with it the test's transaction; Django's own test client disconnects
    it in the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token() -> str:
    staff = user_get_or_create(username="ops", is_staff=True)
    # Rooms and a user that generated slugs and usernames may hit, so that happy paths are reached too.
    for slug in ("lobby", "0", "A"):
        room_get_or_create(slug=slug)
    user_get_or_create(username="alice")
    return token_issue(user=staff).secret


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_to_its_openapi_document(case, staff_token):
    excluded = []
    if case.operation.path == "/api/publish":
        # A notification's free-form data must not hold NUL or lone surrogates anywhere (PostgreSQL
        # cannot store them); JSON Schema cannot say that about every nested key and string, so a
        # generated "valid" payload may be refused with 400. Every other check still runs.
        excluded.append(positive_data_acceptance)
    if case.operation.path == "/api/rooms/{slug}/webhooks" and case.operation.method.upper() == "POST":
        # Whether a URL is usable (its host's syntax, no lone surrogates) goes beyond what a JSON
        # Schema pattern can say; such URLs are refused with 400, which this check would count.
        excluded.append(positive_data_acceptance)
    if case.operation.path == "/api/rooms/{slug}/attachments":
        # A file's type is read from its content; a schema cannot say which bytes make a PNG, so
        # generated files are refused with 400 (or 413 past the size setting).
        excluded.append(positive_data_acceptance)
    if case.operation.path == "/api/rooms/{slug}/messages" and case.operation.method.upper() == "POST":
        attachments = case.body.get("attachments") if isinstance(case.body, dict) else None
        if isinstance(attachments, list) and len(attachments) > parley_settings.ATTACHMENT_MAX_COUNT:
            # The most files a message carries is a setting, so the schema cannot state it: past it,
            # the answer is too_large (413), as for a body over MAX_BODY.
            excluded.append(positive_data_acceptance)
    case.call_and_validate(headers={"Authorization": f"Bearer {staff_token}"}, excluded_checks=excluded)
