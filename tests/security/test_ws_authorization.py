"""Who may do what over the WebSocket: README's "Permissions" table, frame by frame.

Every identity (owner, member, non-member, staff, guest, anonymous, revoked token) meets every
room kind (public, private, guest-open) with every frame (subscribe, history, send, unsubscribe)
and the article's endpoint ``/ws/chat/<room>/``. The outcome must be exactly the table's:

- public: any signed-in user reads and posts; a guest is ``forbidden``;
- private: members (and staff) only; to anyone else it is ``not_found``, word for word what a room
  that does not exist answers (the tutorial endpoint closes both with 4404);
- guest-open: signed-in users and guests;
- no identity at all (anonymous with guests off, a revoked token): every socket is closed with 4401.

Every send carries fields naming someone else as its author; the stored author is always the
connection's identity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User

from parley.accounts.services import token_issue, token_revoke
from parley.rooms.models import Message
from parley.rooms.services import membership_join, room_get_or_create

pytestmark = pytest.mark.django_db(transaction=True)

OK = "ok"
FRAMES = ("subscribe", "history", "send", "unsubscribe", "tutorial")
ROOMS = {"public": "town", "private": "vault", "guest_open": "porch"}
MISSING = "ghost"  # a room that does not exist: a private room must look exactly like it


def row(read_and_post: str, *, closed: int | None = None) -> dict[str, str]:
    """The outcome of every frame for one identity in one room, as the README states it."""
    if closed is not None:
        return dict.fromkeys(FRAMES, f"closed {closed}")
    tutorial = {OK: OK, "not_found": "closed 4404", "forbidden": "closed 4403"}[read_and_post]
    return {
        "subscribe": read_and_post,
        "history": read_and_post,
        "send": read_and_post,
        # Unsubscribing answers the same whether or not the room exists or may be read: it reveals nothing.
        "unsubscribe": OK,
        "tutorial": tutorial,
    }


EVERYWHERE = {"public": row(OK), "private": row(OK), "guest_open": row(OK)}
EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    "owner": EVERYWHERE,
    "member": EVERYWHERE,
    "staff": EVERYWHERE,
    "non_member": {"public": row(OK), "private": row("not_found"), "guest_open": row(OK)},
    "guest": {"public": row("forbidden"), "private": row("not_found"), "guest_open": row(OK)},
    "anonymous": dict.fromkeys(ROOMS, row("", closed=4401)),
    "revoked_token": dict.fromkeys(ROOMS, row("", closed=4401)),
}


@dataclass
class World:
    users: dict[str, User]
    revoked_secret: str
    member_secret: str


def build_world() -> World:
    olivia = User.objects.create_user("olivia", password="pw-owner-1")
    mike = User.objects.create_user("mike", password="pw-member-1")
    nina = User.objects.create_user("nina", password="pw-nonmember-1")
    sam = User.objects.create_user("sam", password="pw-staff-1", is_staff=True)
    for kind, slug in ROOMS.items():
        room = room_get_or_create(
            slug=slug, is_private=kind == "private", guests_allowed=kind == "guest_open", creator=olivia
        ).room
        membership_join(room=room, user=mike)
    revoked = token_issue(user=nina)
    token_revoke(token=revoked.token)
    return World(
        users={"owner": olivia, "member": mike, "non_member": nina, "staff": sam},
        revoked_secret=revoked.secret,
        member_secret=token_issue(user=mike).secret,
    )


@pytest.fixture
async def world() -> World:
    return await sync_to_async(build_world)()


def spoofed_send(slug: str, client_id: str, victim: User) -> dict[str, Any]:
    """A send frame that claims, in every way a client might try, to come from ``victim``."""
    return {
        "type": "send",
        "room": slug,
        "body": f"posted as {client_id}",
        "client_id": client_id,
        "author": {"id": victim.pk, "name": victim.username, "guest": False},
        "user": victim.username,
        "user_id": victim.pk,
        "author_id": victim.pk,
        "guest_name": victim.username,
        "name": victim.username,
    }


async def connect(ws, identity: str, world: World, path: str) -> WebsocketCommunicator:
    """Open ``path`` as ``identity``: members come with a bearer token, other users with a session."""
    if identity == "member":
        return await ws(path, token=world.member_secret)
    if identity == "revoked_token":
        return await ws(path, token=world.revoked_secret, origin=None)
    if identity == "guest":
        return await ws(path, name="zed")
    if identity == "anonymous":
        return await ws(path)
    return await ws(path, user=world.users[identity])


async def closed_code(client: WebsocketCommunicator) -> int | None:
    """The close code if the server closed the socket right after the handshake (after its error frame)."""
    while True:
        output = await client.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return int(output["code"])
        if output["type"] != "websocket.send":
            return None


def outcome(reply: dict[str, Any], success: str) -> str:
    if reply["type"] == success:
        return OK
    assert reply["type"] == "error", reply
    return str(reply["code"])


async def v1_outcomes(ws, identity: str, world: World, slug: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """What each protocol-v1 frame gets in room ``slug``, and the error frames by frame type."""
    client = await connect(ws, identity, world, "/ws/")
    await client.send_json_to({"type": "ping", "ref": "hello"})
    first = await client.receive_output(timeout=3)
    if first["type"] == "websocket.send" and '"pong"' not in first["text"]:
        code = await closed_code(client)  # the handshake's error frame came first
        return dict.fromkeys(FRAMES[:4], f"closed {code}"), {}
    if first["type"] == "websocket.close":
        return dict.fromkeys(FRAMES[:4], f"closed {first['code']}"), {}

    victim = world.users["staff"] if identity != "staff" else world.users["owner"]
    frames = {
        "subscribe": ({"type": "subscribe", "room": slug}, "subscribed"),
        "history": ({"type": "history", "room": slug}, "history"),
        "send": (spoofed_send(slug, f"{identity}-{slug}", victim), "ack"),
        "unsubscribe": ({"type": "unsubscribe", "room": slug}, "unsubscribed"),
    }
    results: dict[str, str] = {}
    errors: dict[str, dict[str, Any]] = {}
    for name, (frame, success) in frames.items():
        await client.send_json_to(frame)
        reply = await client.receive_json_from(timeout=3)
        while reply["type"] == "message":  # our own send, delivered while subscribed
            reply = await client.receive_json_from(timeout=3)
        results[name] = outcome(reply, success)
        if reply["type"] == "error":
            errors[name] = reply
    return results, errors


async def tutorial_outcome(ws, identity: str, world: World, slug: str) -> str:
    client = await connect(ws, identity, world, f"/ws/chat/{slug}/")
    await client.send_json_to({"message": f"tutorial {identity}-{slug}", "author": "someone else"})
    output = await client.receive_output(timeout=3)
    if output["type"] == "websocket.send" and '"error"' in output["text"]:
        code = await closed_code(client)
        return f"closed {code}"
    if output["type"] == "websocket.close":
        return f"closed {output['code']}"
    assert json.loads(output["text"]) == {"message": f"tutorial {identity}-{slug}"}, output
    return OK


def stored_authors() -> dict[str, tuple[int | None, str, str]]:
    return {
        message.body: (message.author_id, message.guest_name, message.guest_id) for message in Message.objects.all()
    }


@pytest.mark.parametrize("kind", list(ROOMS))
@pytest.mark.parametrize("identity", list(EXPECTED))
async def test_each_identity_gets_exactly_what_the_permissions_table_says(ws, world, settings, identity, kind):
    # "anonymous" is nobody at all: with guests off, a socket without a session or token has no identity.
    settings.PARLEY = {**settings.PARLEY, "GUESTS": identity != "anonymous"}
    slug = ROOMS[kind]

    actual, errors = await v1_outcomes(ws, identity, world, slug)
    actual["tutorial"] = await tutorial_outcome(ws, identity, world, slug)
    assert actual == EXPECTED[identity][kind]

    # A private room a reader may not see answers word for word like a room that does not exist.
    if "not_found" in actual.values():
        _, missing = await v1_outcomes(ws, identity, world, MISSING)
        for frame, error in errors.items():
            assert error == {**missing[frame], "detail": missing[frame]["detail"].replace(MISSING, slug)}
        assert await tutorial_outcome(ws, identity, world, MISSING) == actual["tutorial"]

    # Whatever the frame claimed, the stored author is the connection's identity.
    authors = await sync_to_async(stored_authors)()
    expected_posts = 2 if actual["send"] == OK else 0
    assert len(authors) == expected_posts
    for author_id, guest_name, guest_id in authors.values():
        if identity == "guest":
            assert (author_id, guest_name) == (None, "zed")
            assert guest_id
        else:
            assert (author_id, guest_name, guest_id) == (world.users[identity].pk, "", "")


async def test_a_guest_may_not_use_a_guest_open_room_when_guests_are_off(ws, world, settings):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": False}
    actual, _ = await v1_outcomes(ws, "guest", world, ROOMS["guest_open"])
    assert actual == dict.fromkeys(FRAMES[:4], "closed 4401")
