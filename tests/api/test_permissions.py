"""The API's authorization matrix: every room endpoint, for every kind of caller and room, is allowed
or refused exactly as README's "Permissions" table says, and a private room's existence never leaks."""

from __future__ import annotations

import pytest

from parley.accounts.services import token_issue, token_revoke
from parley.rooms.models import Membership, Message
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

CALLERS = ["owner", "member", "non-member", "staff", "anonymous", "revoked token"]
ROOMS = {"public": {}, "private": {"is_private": True}, "guest-open": {"guests_allowed": True}}
ENDPOINTS = ["get room", "get messages", "post message", "join", "leave"]
ALLOWED = {"get room": 200, "get messages": 200, "post message": 201, "join": 200, "leave": 200}


def expected(caller: str, room: str, endpoint: str) -> int:
    """README's table: signed-in users use public rooms (guest-open ones are public too); private
    rooms are for members (anyone else: 404, as if absent); staff everywhere; no identity: 401."""
    if caller in ("anonymous", "revoked token"):
        return 401
    if room == "private" and caller == "non-member":
        return 404
    if caller == "owner" and endpoint == "leave":
        return 403  # the only owner may not leave (the API's rule, on top of the table)
    return ALLOWED[endpoint]


def call(client: ApiClient, endpoint: str, slug: str):
    if endpoint == "get room":
        return client.get(f"/rooms/{slug}")
    if endpoint == "get messages":
        return client.get(f"/rooms/{slug}/messages")
    if endpoint == "post message":
        return client.post(f"/rooms/{slug}/messages", {"body": "hi"})
    return client.post(f"/rooms/{slug}/{endpoint}")


@pytest.fixture
def caller_client(make_user):
    def make(caller: str, room) -> ApiClient:
        if caller == "anonymous":
            return ApiClient()
        user = make_user(caller.replace(" ", "-"), staff=caller == "staff")
        if caller == "owner":
            Membership.objects.create(room=room, user=user, role=Membership.Role.OWNER)
        elif caller == "member":
            Membership.objects.create(room=room, user=user)
        issued = token_issue(user=user)
        if caller == "revoked token":
            Membership.objects.create(room=room, user=user)  # even a member's revoked token does nothing
            token_revoke(token=issued.token)
        return ApiClient(issued.secret)

    return make


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("room_kind", list(ROOMS))
@pytest.mark.parametrize("caller", CALLERS)
def test_authorization_matrix(make_room, caller_client, caller, room_kind, endpoint):
    room = make_room("target", **ROOMS[room_kind])
    client = caller_client(caller, room)
    messages_before = Message.objects.count()
    response = call(client, endpoint, "target")
    want = expected(caller, room_kind, endpoint)
    assert response.status_code == want, response.content
    if want >= 400:
        code = {401: "forbidden", 403: "forbidden", 404: "not_found"}[want]
        assert response.json()["code"] == code
        assert Message.objects.count() == messages_before  # a refused call stores nothing
    if want == 404:
        # Exactly what a room that does not exist answers.
        missing = call(client, endpoint, "absent").json()
        assert response.json() == {"code": "not_found", "detail": missing["detail"].replace("'absent'", "'target'")}


def test_a_private_room_is_not_listed_for_non_members(make_user, make_room, token_for):
    make_room("vault", is_private=True)
    make_room("lobby")
    slugs = [room["slug"] for room in ApiClient(token_for(make_user("eve"))).get("/rooms").json()]
    assert slugs == ["lobby"]
    staff_slugs = [room["slug"] for room in ApiClient(token_for(make_user("ops", staff=True))).get("/rooms").json()]
    assert staff_slugs == ["lobby", "vault"]


def test_a_member_who_left_a_private_room_no_longer_sees_it(make_user, make_room, token_for):
    bob = make_user("bob")
    make_room("vault", is_private=True, members=[bob])
    client = ApiClient(token_for(bob))
    assert client.post("/rooms/vault/leave").status_code == 200
    assert client.get("/rooms/vault").status_code == 404
