"""Every read path, by every way of losing a room: whoever lost a room sees nothing of it anywhere.

The rows are the three ways a user loses a room they could read: banned from a public room,
removed from a private room, and a public room made private while they were not a member. The
columns are every path by which a person reads something of a room: the HTTP API, the web pages,
the socket's frames, the unread counts and the mention e-mail.

In every cell, the user who lost the room sees none of it: no message (posted before or after),
no name or title, no head or unread count, no mention excerpt. A path that lists (room lists,
search without a room, notifications, the e-mail) leaves the room out; a path that names the room
refuses it. A control user who kept the room reads it through the same path, so that a cell
cannot pass because the path shows nothing to anyone.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from parley.accounts.identity import user_identity
from parley.accounts.services import token_issue
from parley.mentions.email import mention_email_claim
from parley.mentions.services import mentions_notify
from parley.moderation.services import member_ban, member_invite, member_remove, room_settings_update
from parley.notifications.models import Notification
from parley.readstate.selectors import unread_counts
from parley.readstate.services import read_marker_advance
from parley.rooms.models import Room
from parley.rooms.services import message_post, room_create

pytestmark = pytest.mark.django_db(transaction=True)

# In the room's title, in every message and so in the mention's excerpt: wherever it shows up,
# something of the room did.
SECRET = "pangolin"
# In every message too, and what the searches look for: a page that repeats the query shows this
# word, not the secret.
SEARCHED = "okapi"
WAYS = ("banned", "removed", "made_private")


@dataclass(frozen=True)
class World:
    """A room, the user who lost it (``reader``) and one who kept it (``control``)."""

    room: Room
    reader: User
    control: User


@dataclass(frozen=True)
class Seen:
    """What one user got from one read path: refused (an error, a 403/404, a closed socket) or
    not, and everything it showed them, as text."""

    refused: bool
    text: str


def _people() -> tuple[User, User, User]:
    users = []
    for name in ("owner", "reader", "control"):
        user = User.objects.create_user(name, email=f"{name}@example.com", password="pw-for-tests-1")
        users.append(user)
    return users[0], users[1], users[2]


def _post(room: Room, user: User, body: str) -> int:
    body = f"{body} {SEARCHED}"
    return int(message_post(room=room, sender=user_identity(user), body=body, client_id=body).message.pk)


def world_where_the_reader(way: str) -> World:
    """Build the room, let the reader read it (and be mentioned there), then take it away ``way``."""
    owner, reader, control = _people()
    room = room_create(slug=f"den-{way}", title=f"The {SECRET} den", is_private=way == "removed", creator=owner)
    if way == "removed":
        member_invite(room=room, actor=owner, username="reader")
        member_invite(room=room, actor=owner, username="control")
    _post(room, control, f"{SECRET} from control")
    if way == "banned":
        _post(room, reader, f"{SECRET} from reader")  # a public room: posting made the reader a member
    mention = _post(room, owner, f"@reader @control the {SECRET} plan")
    mentions_notify(message_id=mention)
    read_marker_advance(user=reader, room=room, seq=1)
    if way == "banned":
        member_ban(room=room, actor=owner, username="reader")
    elif way == "removed":
        member_remove(room=room, actor=owner, username="reader")
    else:
        room_settings_update(room=room, actor=owner, title=room.title, is_private=True, guests_allowed=False)
    _post(room, owner, f"{SECRET} after the change")
    room.refresh_from_db()
    return World(room=room, reader=reader, control=control)


# --- the read paths --------------------------------------------------------------------------

ReadPath = Callable[[World, User, Any], Awaitable[Seen]]
PATHS: dict[str, ReadPath] = {}
LISTS: set[str] = set()  # paths that list rooms or what is in them, rather than name one room


def read_path(name: str, *, lists: bool) -> Callable[[ReadPath], ReadPath]:
    def register(path: ReadPath) -> ReadPath:
        PATHS[name] = path
        if lists:
            LISTS.add(name)
        return path

    return register


def http_path(name: str, url: Callable[[Room], str], *, lists: bool) -> None:
    """A GET on the API (with an API token of the user's) or on a page (signed in with a session)."""

    def get(world: World, user: User) -> Seen:
        client = Client()
        headers = {}
        if url(world.room).startswith("/api/"):
            headers["Authorization"] = f"Bearer {token_issue(user=user).secret}"
        else:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        response = client.get(url(world.room), headers=headers)
        return Seen(refused=response.status_code != 200, text=response.content.decode())

    async def path(world: World, user: User, ws: Any) -> Seen:
        return await sync_to_async(get)(world, user)

    read_path(name, lists=lists)(path)


http_path("api rooms list", lambda room: "/api/rooms", lists=True)
http_path("api room", lambda room: f"/api/rooms/{room.slug}", lists=False)
http_path("api messages", lambda room: f"/api/rooms/{room.slug}/messages", lists=False)
http_path("api people to mention", lambda room: f"/api/rooms/{room.slug}/people", lists=False)
http_path("api search", lambda room: f"/api/search?q={SEARCHED}", lists=True)
http_path("api search in the room", lambda room: f"/api/search?q={SEARCHED}&room={room.slug}", lists=False)
http_path("api notifications", lambda room: "/api/notifications", lists=True)
http_path("index page (sidebar, bell)", lambda room: "/", lists=True)
http_path("direct messages page", lambda room: "/dms/", lists=True)
http_path("chat page", lambda room: f"/chat/{room.slug}/", lists=False)
http_path("search page", lambda room: f"/search/?q={SEARCHED}", lists=True)
http_path("search page in the room", lambda room: f"/search/?q={SEARCHED}&room={room.slug}", lists=False)


async def _token(user: User) -> str:
    return (await sync_to_async(token_issue)(user=user)).secret


async def _answer(client: Any, frame: dict[str, Any]) -> Seen:
    """Send ``frame`` with a ref and read up to its answer (an error, or the frame answering it)."""
    await client.send_json_to({**frame, "ref": "probe"})
    seen = []
    while True:
        answer = await client.receive_json_from(timeout=5)
        seen.append(json.dumps(answer))
        if answer.get("ref") == "probe":
            return Seen(refused=answer["type"] == "error", text="\n".join(seen))


def socket_path(name: str, frame: Callable[[Room], dict[str, Any]], *, lists: bool) -> None:
    """One frame on ``/ws/``, from a socket signed in with an API token of the user's."""

    async def path(world: World, user: User, ws: Any) -> Seen:
        return await _answer(await ws(token=await _token(user)), frame(world.room))

    read_path(name, lists=lists)(path)


socket_path("socket subscribe", lambda room: {"type": "subscribe", "room": room.slug, "since": 0}, lists=False)
socket_path("socket history", lambda room: {"type": "history", "room": room.slug}, lists=False)
socket_path("socket read marker", lambda room: {"type": "read", "room": room.slug, "seq": 1}, lists=False)
socket_path("socket notifications", lambda room: {"type": "notifications", "since": 0}, lists=True)


@read_path("tutorial socket", lists=False)
async def tutorial_socket(world: World, user: User, ws: Any) -> Seen:
    client = await ws(f"/ws/chat/{world.room.slug}/", token=await _token(user))
    await client.send_json_to({"message": f"{SECRET} on the tutorial socket"})
    output = await client.receive_output(timeout=5)
    if output["type"] == "websocket.close":
        return Seen(refused=True, text=f"closed {output['code']}")
    return Seen(refused=False, text=output["text"])


@read_path("unread counts", lists=True)
async def unread(world: World, user: User, ws: Any) -> Seen:
    counts = await sync_to_async(unread_counts)(user_id=user.pk, room_ids=[world.room.pk])
    return Seen(refused=False, text=" ".join(f"{world.room.slug}:{state}" for state in counts.values()))


@read_path("mention e-mail", lists=True)
async def mention_email(world: World, user: User, ws: Any) -> Seen:
    def claim() -> str:
        # As if the e-mail delay had passed since the mention.
        long_ago = timezone.now() - timedelta(hours=1)
        Notification.objects.filter(recipient=user).update(created_at=long_ago)
        email = mention_email_claim(user_id=user.pk)
        return "" if email is None else f"{email.subject}\n{email.text}"

    return Seen(refused=False, text=await sync_to_async(claim)())


@pytest.fixture(autouse=True)
def _quick(settings: Any) -> None:
    settings.PARLEY = {**settings.PARLEY, "API_RATE": None}
    settings.PARLEY = {**settings.PARLEY, "MENTION_EMAIL_DELAY": 60}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("path", sorted(PATHS))
async def test_a_user_who_lost_a_room_sees_nothing_of_it(path: str, way: str, ws: Any) -> None:
    world = await sync_to_async(world_where_the_reader)(way)
    lost = await PATHS[path](world, world.reader, ws)
    kept = await PATHS[path](world, world.control, ws)

    assert SECRET not in lost.text, f"{path}: the reader still sees the room ({way})"
    if path in LISTS:
        assert world.room.slug not in lost.text, f"{path}: the reader still sees the room's name ({way})"
    else:
        assert lost.refused, f"{path}: the room was not refused to the reader ({way})"
    assert not kept.refused, f"{path}: the control user was refused"
    assert SECRET in kept.text or world.room.slug in kept.text, f"{path}: the control user sees nothing either"
