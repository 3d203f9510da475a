"""Parley's permissions, granted as a host grants them (to a group, in its admin), on every transport.

Every kind of person meets every right that used to be staff's alone — read every room, moderate
every room, publish from a backend, create rooms on a site that restricts it — over the API, the
pages and the socket. Each person holds exactly the rights the README's table gives them: none for
a plain user, all for staff (unless ``PARLEY["STAFF_PERMISSIONS"]`` is off) and superusers, and
exactly the one granted for everyone else.
"""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from parley.accounts.identity import user_identity
from parley.accounts.services import token_issue
from parley.moderation.services import room_settings_update
from parley.rooms.models import Membership, Room
from parley.rooms.services import message_send, room_create
from tests.api.conftest import ApiClient
from tests.factories import UserFactory, grant_through_group

RIGHTS = {  # a right, and the permission that grants it
    "read": "read_all_rooms",
    "moderate": "moderate_all_rooms",
    "publish": "publish_messages",
    "create": "add_room",
}
EVERY = set(RIGHTS)
PEOPLE: dict[str, set[str]] = {  # who holds which rights, as the README's table says
    "plain": set(),
    "staff": EVERY,
    "staff, STAFF_PERMISSIONS off": set(),
    "superuser, not staff": EVERY,
    **{f"granted {codename}": {right} for right, codename in RIGHTS.items()},
}


@pytest.fixture(autouse=True)
def _quick(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Creating rooms is asked about only on a site that restricts it.
    settings.PARLEY = {**settings.PARLEY, "API_RATE": None, "ROOM_CREATION": "permitted"}


def make_person(kind: str, settings: Any) -> User:
    """The person of this kind, and a public room ``town`` with mike's message and a private ``vault``."""
    owner = UserFactory(username="olivia")
    mike = UserFactory(username="mike")
    town = room_create(slug="town", creator=owner)
    Membership.objects.create(room=town, user=mike)
    message_send(slug="town", sender=user_identity(mike), body="mike's message", client_id="m1")
    room_create(slug="vault", creator=owner, is_private=True)
    person = UserFactory(username="pat", is_staff=kind.startswith("staff"), is_superuser=kind.startswith("superuser"))
    if kind == "staff, STAFF_PERMISSIONS off":
        settings.PARLEY = {**settings.PARLEY, "STAFF_PERMISSIONS": False}
    if kind.startswith("granted "):
        grant_through_group(person, kind.removeprefix("granted "))
    return person


def api_call(client: ApiClient, right: str) -> tuple[int, int]:
    """The status of the API call that needs ``right``, and the status it answers when allowed."""
    if right == "read":
        return client.get("/rooms/vault/messages").status_code, 200
    if right == "moderate":
        return client.post("/rooms/town/bans", {"username": "mike"}).status_code, 200
    if right == "publish":
        return client.post("/publish", {"rooms": ["town"], "message": {"body": "deployed"}}).status_code, 201
    return client.post("/rooms", {"slug": "made"}).status_code, 201


REFUSED = {"read": 404, "moderate": 403, "publish": 403, "create": 403}  # a private room looks missing


@pytest.mark.django_db
@pytest.mark.parametrize("right", list(RIGHTS))
@pytest.mark.parametrize("kind", list(PEOPLE))
def test_the_api_grants_exactly_the_persons_rights(settings, kind, right):
    person = make_person(kind, settings)
    status, allowed = api_call(ApiClient(token_issue(user=person).secret), right)
    assert status == (allowed if right in PEOPLE[kind] else REFUSED[right])


def page_call(client: Client, right: str) -> tuple[int, str]:
    if right == "read":
        response = client.get("/chat/vault/")
    elif right == "moderate":
        response = client.get("/chat/town/settings/")
    else:
        response = client.post("/rooms/new/", {"slug": "made", "title": ""})
    return response.status_code, response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("right", ["read", "moderate", "create"])  # publishing has no page
@pytest.mark.parametrize("kind", list(PEOPLE))
def test_the_pages_grant_exactly_the_persons_rights(settings, kind, right):
    person = make_person(kind, settings)
    client = Client()
    client.force_login(person)
    status, page = page_call(client, right)
    holds = right in PEOPLE[kind]
    if right == "read":
        assert status == (200 if holds else 404)
    elif right == "moderate":
        assert status == (200 if holds else 404)
        assert ('id="webhooks-title"' in page) is holds  # an owner's panels, for whoever moderates every room
    else:
        assert status == (302 if holds else 403)
        assert ("permission on this site; ask an administrator." in page) is not holds
        assert Room.objects.filter(slug="made").exists() is holds


async def frame_of(client: Any, *types: str) -> dict[str, Any]:
    while (frame := await client.receive_json_from(timeout=3))["type"] not in types:
        pass
    return frame


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("right", ["read", "moderate"])  # what the socket can do with them
@pytest.mark.parametrize("kind", list(PEOPLE))
async def test_the_socket_grants_exactly_the_persons_rights(ws, settings, kind, right):
    person = await sync_to_async(make_person)(kind, settings)
    socket = await ws(user=person)
    holds = right in PEOPLE[kind]
    if right == "read":
        await socket.send_json_to({"type": "subscribe", "room": "vault"})
        answer = await frame_of(socket, "subscribed", "error")
        assert (answer["type"], answer.get("code")) == (("subscribed", None) if holds else ("error", "not_found"))
        return
    await socket.send_json_to({"type": "delete", "room": "town", "seq": 1, "ref": "d"})
    answer = await frame_of(socket, "message_updated", "error")
    assert (answer["type"], answer.get("code")) == (("message_updated", None) if holds else ("error", "forbidden"))


@pytest.mark.django_db(transaction=True)
async def test_a_permission_granted_while_a_socket_is_open_counts_from_the_next_connection(ws, settings):
    person = await sync_to_async(make_person)("plain", settings)
    before = await ws(user=person)
    await before.send_json_to({"type": "subscribe", "room": "vault"})
    assert (await frame_of(before, "subscribed", "error"))["code"] == "not_found"
    await sync_to_async(grant_through_group)(person, "read_all_rooms")
    await before.send_json_to({"type": "subscribe", "room": "vault"})
    assert (await frame_of(before, "subscribed", "error"))["code"] == "not_found"  # asked once per connection
    after = await ws(user=person)
    await after.send_json_to({"type": "subscribe", "room": "vault"})
    assert (await frame_of(after, "subscribed", "error"))["type"] == "subscribed"


@pytest.mark.django_db(transaction=True)
async def test_a_room_made_private_stays_with_whoever_reads_every_room(ws, settings):
    """The readers of a room made private (members, and holders of read_all_rooms through their
    groups) keep it on their sockets; everyone else loses it at once."""
    pat = await sync_to_async(make_person)("granted read_all_rooms", settings)
    nina = await sync_to_async(UserFactory)(username="nina")
    sockets = {}
    for user in (pat, nina):
        sockets[user.username] = socket = await ws(user=user)
        await socket.send_json_to({"type": "subscribe", "room": "town"})
        await frame_of(socket, "subscribed")
    owner = await sync_to_async(User.objects.get)(username="olivia")
    town = await sync_to_async(Room.objects.get)(slug="town")
    await sync_to_async(room_settings_update)(room=town, actor=owner, title="", is_private=True, guests_allowed=False)
    assert (await frame_of(sockets["nina"], "error"))["code"] == "forbidden"
    assert await sockets["pat"].receive_nothing(timeout=0.5)


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "offered"), [("plain", False), ("granted add_room", True), ("staff", True)])
def test_the_index_offers_the_new_room_form_only_to_who_may_create_rooms(kind, offered, settings, client):
    client.force_login(make_person(kind, settings))
    assert ('id="new-room-title"' in client.get(reverse("parley:index")).content.decode()) is offered


@pytest.mark.django_db
def test_every_signed_in_user_is_offered_the_form_by_default(settings, client):
    settings.PARLEY = {**settings.PARLEY, "ROOM_CREATION": "everyone"}
    client.force_login(make_person("plain", settings))
    assert 'id="new-room-title"' in client.get(reverse("parley:index")).content.decode()
