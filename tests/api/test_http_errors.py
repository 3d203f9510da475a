"""Answers the API gives outside its operations: a body over the size limit (413), a method an
endpoint lacks (405), an address with no endpoint (404) — all in the API's JSON shape, none logged
as an error. And the same body limit on the site's pages: a 413 page, not a 400 with a traceback."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LIMIT = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, which the site keeps
TOO_BIG = "x" * (LIMIT + 1)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["code"] == code
    assert body["detail"].endswith(".")
    return body


def assert_nothing_logged_as_error(caplog) -> None:
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_json_body_over_the_limit_is_413_and_logs_no_error(make_user, make_room, api_as, caplog):
    make_room("lobby")
    response = api_as(make_user("alice")).post("/rooms/lobby/messages", {"body": TOO_BIG, "client_id": "c"})
    body = assert_error(response, 413, "too_large")
    assert "2.5 MB" in body["detail"]
    assert_nothing_logged_as_error(caplog)


def test_a_multipart_body_over_the_limit_is_413(make_user, make_room, token_for, caplog):
    make_room("lobby")
    client = Client(headers={"Authorization": f"Bearer {token_for(make_user('alice'))}"})
    response = client.post("/api/rooms/lobby/messages", {"body": TOO_BIG, "client_id": "c"})  # multipart
    assert_error(response, 413, "too_large")
    assert_nothing_logged_as_error(caplog)


def test_a_session_post_over_the_limit_is_413(make_user, make_room, caplog):
    make_room("lobby")
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("alice"))
    client.get("/")  # any page sets the csrftoken cookie
    headers = {"X-CSRFToken": client.cookies["csrftoken"].value}
    response = client.post(
        "/api/rooms/lobby/messages",
        {"body": TOO_BIG, "client_id": "c"},
        content_type="application/json",
        headers=headers,
    )
    assert_error(response, 413, "too_large")
    assert_nothing_logged_as_error(caplog)


def test_a_body_within_a_lower_limit_is_read(make_user, make_room, api_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    make_room("lobby")
    client = api_as(make_user("alice"))
    assert client.post("/rooms/lobby/messages", {"body": "x" * 100, "client_id": "a"}).status_code == 201
    response = client.post("/rooms/lobby/messages", {"body": "x" * 300, "client_id": "b"})
    assert "200 bytes" in assert_error(response, 413, "too_large")["detail"]


def test_a_method_an_endpoint_lacks_is_405_in_json(make_user, api_as):
    response = api_as(make_user("alice")).client.put("/api/tokens", headers=api_as(make_user("bob")).headers)
    body = assert_error(response, 405, "invalid")
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}
    assert body["detail"] == "PUT is not allowed at /api/tokens; use GET or POST."


def test_an_address_with_no_endpoint_is_404_in_json(make_user, api_as, caplog):
    assert_error(api_as(make_user("alice")).get("/no-such-thing"), 404, "not_found")
    assert_error(Client().post("/api/no/such/thing", {}), 404, "not_found")
    assert_nothing_logged_as_error(caplog)


def test_the_api_docs_are_still_pages():
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_a_page_form_over_the_limit_is_a_413_page(caplog):
    response = Client().post("/accounts/login/", {"username": "alice", "password": TOO_BIG})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"too large" in response.content
    assert_nothing_logged_as_error(caplog)


def test_a_page_multipart_form_over_the_limit_is_a_413_page(settings, caplog):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = Client()
    boundary = "BoUnDaRy"
    payload = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="username"\r\n\r\n{"x" * 2000}\r\n--{boundary}--\r\n'
    )
    response = client.generic(
        "POST", "/accounts/login/", payload, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 413
    assert_nothing_logged_as_error(caplog)
