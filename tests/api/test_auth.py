"""Who may call the API: bearer tokens, sessions (with CSRF on unsafe methods), not guests; the
per-caller rate limit; and the JSON error shape of everything that goes wrong."""

from __future__ import annotations

import pytest
from django.test import AsyncClient, Client

from parley.accounts.identity import GUEST_ID_SESSION_KEY, GUEST_NAME_SESSION_KEY
from parley.accounts.services import token_issue, token_revoke
from parley.rooms.models import Message
from tests.api.conftest import ApiClient
from tests.servers import ServerProcess, server_env

HOW = "Send 'Authorization: Bearer <token>'"


@pytest.mark.django_db
def test_no_credentials_is_401_with_how_to_authenticate(make_room):
    make_room("lobby")
    response = ApiClient().get("/rooms")
    assert response.status_code == 401
    assert response.json()["code"] == "forbidden"
    assert response.json()["detail"].startswith("This endpoint needs a signed-in user. " + HOW)


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer parley_not-a-token", "Bearer nonsense", "Basic YTpi", "Bearer"])
def test_a_bad_authorization_header_is_401(header):
    response = Client().get("/api/rooms", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("The Authorization header holds no active API token")


@pytest.mark.django_db
def test_a_revoked_token_is_401(make_user):
    issued = token_issue(user=make_user("alice"))
    token_revoke(token=issued.token)
    assert ApiClient(issued.secret).get("/rooms").status_code == 401


@pytest.mark.django_db
def test_a_token_of_a_deactivated_user_is_401(make_user):
    alice = make_user("alice")
    secret = token_issue(user=alice).secret
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert ApiClient(secret).get("/rooms").status_code == 401


@pytest.mark.django_db
def test_a_session_reads_without_csrf(make_user, make_room):
    make_room("lobby")
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("alice"))
    assert client.get("/api/rooms").status_code == 200


@pytest.mark.django_db
def test_a_session_post_without_the_csrf_token_is_refused_and_stores_nothing(make_user, make_room):
    make_room("lobby")
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("alice"))
    response = client.post("/api/rooms/lobby/messages", {"body": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "X-CSRFToken" in response.json()["detail"]
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_session_post_with_the_csrf_token_works(make_user, make_room):
    make_room("lobby")
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("alice"))
    client.get("/")  # any page sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/rooms/lobby/messages", {"body": "x"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201
    assert response.json()["author"]["name"] == "alice"


@pytest.mark.django_db
def test_a_token_post_needs_no_csrf_token(make_user, make_room):
    make_room("lobby")
    secret = token_issue(user=make_user("alice")).secret
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/rooms/lobby/messages",
        {"body": "x"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_a_guest_session_is_not_accepted(make_room):
    make_room("lobby", guests_allowed=True)
    client = Client()
    session = client.session
    session[GUEST_NAME_SESSION_KEY] = "zed"
    session[GUEST_ID_SESSION_KEY] = "g-1"
    session.save()
    client.cookies["sessionid"] = session.session_key
    assert client.get("/api/rooms/lobby").status_code == 401
    assert client.post("/api/rooms/lobby/messages", {"body": "x"}, content_type="application/json").status_code == 401


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_400(make_user, make_room, token_for):
    make_room("lobby")
    response = Client().post(
        "/api/rooms/lobby/messages",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(make_user('alice'))}"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "The request body is not valid JSON; send one JSON object with 'Content-Type: application/json'.",
    }


@pytest.mark.django_db
def test_a_missing_field_is_named(make_user, make_room, api_as):
    make_room("lobby")
    response = api_as(make_user("alice")).post("/rooms/lobby/messages", {})
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "detail": "Field 'body' of the JSON body is required."}


@pytest.mark.django_db(transaction=True)
async def test_over_the_rate_limit_is_429_with_retry_after(make_user, make_room, settings):
    from asgiref.sync import sync_to_async

    settings.PARLEY = {**settings.PARLEY, "API_RATE": (0.01, 2)}
    await sync_to_async(make_room)("lobby")
    secret = await sync_to_async(lambda: token_issue(user=make_user("alice")).secret)()
    client, auth = AsyncClient(), {"Authorization": f"Bearer {secret}"}
    statuses = [(await client.get("/api/rooms", headers=auth)).status_code for _ in range(2)]
    refused = await client.post(
        "/api/rooms/lobby/messages", {"body": "x"}, content_type="application/json", headers=auth
    )
    assert statuses == [200, 200]
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["retry_after"] > 0
    assert int(refused["Retry-After"]) >= 1
    assert "nothing was done" in body["detail"]
    assert await Message.objects.acount() == 0


@pytest.mark.e2e  # a real server process: the same on either pass, so the PostgreSQL pass leaves it out
def test_an_unreachable_database_is_503_unavailable(tmp_path):
    # A real server whose database does not answer (nothing listens on port 1).
    env = server_env(DATABASE_URL="postgres://postgres@127.0.0.1:1/parley_api_down")
    server = ServerProcess(env=env, log=tmp_path / "server.log", kind="uvicorn").start()
    try:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", "/api/rooms", headers={"Authorization": "Bearer parley_x", "Host": "localhost"})
        response = connection.getresponse()
        import json

        body = json.loads(response.read())
    finally:
        server.stop()
    assert response.status == 503
    assert body["code"] == "unavailable"
    assert "nothing was done" in body["detail"]


@pytest.mark.django_db
def test_a_bad_token_is_401_even_with_a_session(make_user):
    # A client that sent a token must learn that it failed, not act silently as the session's user.
    client = Client()
    client.force_login(make_user("alice"))
    assert client.get("/api/rooms").status_code == 200
    response = client.get("/api/rooms", headers={"Authorization": "Bearer parley_not-a-token"})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("The Authorization header holds no active API token")
