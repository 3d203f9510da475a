"""The article's protocol at ``/ws/chat/<room>/``, against a real Daphne process."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import InvalidStatus

from tests.e2e.client import Client, Connect
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.servers import ServerProcess

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def site(site_factory) -> Site:
    return site_factory(
        rooms=(
            RoomSpec("echo", guests=True),
            RoomSpec("bridge-in", guests=True),
            RoomSpec("bridge-out", guests=True),
            RoomSpec("members"),
            RoomSpec("secret", private=True, members=("alice",)),
        ),
        users=(UserSpec("alice"), UserSpec("bob")),
    )


@pytest.fixture(scope="module")
def server(site: Site) -> ServerProcess:
    return site.start()


async def test_a_message_reaches_every_socket_of_the_room(server, connect: Connect):
    sockets = [await connect(server, "/ws/chat/echo/", name=name) for name in ("ann", "ben", "cat")]
    await sockets[0].send({"message": "hello, room"})
    for socket in sockets:
        assert await socket.recv() == {"message": "hello, room"}
    await sockets[2].send({"message": "second"})
    for socket in sockets:
        assert await socket.recv() == {"message": "second"}


async def test_a_tutorial_message_is_stored_and_reaches_v1_with_its_seq(server, site, connect: Connect):
    reader = await connect(server, token=site.token("alice"))
    assert (await reader.request({"type": "subscribe", "room": "bridge-in"}))["head"] == 0
    page = await connect(server, "/ws/chat/bridge-in/", name="Tutorial Tom")
    await page.send({"message": "from the article"})
    assert await page.recv() == {"message": "from the article"}

    message = await reader.recv()
    assert message == {
        "type": "message",
        "room": "bridge-in",
        "seq": 1,
        "id": message["id"],
        "author": {"id": None, "name": "Tutorial Tom", "guest": True},
        "body": "from the article",
        "created_at": message["created_at"],
        "client_id": message["client_id"],
        "edited_at": None,
        "deleted": False,
        "reactions": {},
        "mine": [],
        "reply_to": None,
        "thread_count": 0,
        "attachments": [],
    }
    assert message["client_id"]
    history = await reader.request({"type": "history", "room": "bridge-in"})
    assert history["messages"] == [{key: value for key, value in message.items() if key != "type"}]


async def test_a_v1_send_reaches_tutorial_sockets(server, site, connect: Connect):
    pages = [
        await connect(server, "/ws/chat/bridge-out/", name="reader"),
        await connect(server, "/ws/chat/bridge-out/", token=site.token("bob")),
    ]
    sender = await connect(server, token=site.token("alice"))
    ack = await sender.request({"type": "send", "room": "bridge-out", "body": "from protocol v1", "client_id": "v1-1"})
    assert ack["type"] == "ack"
    for page in pages:
        assert await page.recv() == {"message": "from protocol v1"}


async def test_a_signed_in_user_may_use_a_members_room(server, site, connect: Connect):
    page = await connect(server, "/ws/chat/members/", token=site.token("bob"))
    await page.send({"message": "bob was here"})
    assert await page.recv() == {"message": "bob was here"}


@pytest.mark.parametrize(
    ("path", "who", "code"),
    [
        ("/ws/chat/nowhere/", "guest", 4404),
        ("/ws/chat/nowhere/", "bob", 4404),
        ("/ws/chat/secret/", "guest", 4404),
        ("/ws/chat/secret/", "bob", 4404),
        ("/ws/chat/members/", "guest", 4403),
    ],
)
async def test_a_room_that_cannot_be_used_closes_the_socket(server, site, connect: Connect, path, who, code):
    token = None if who == "guest" else site.token(who)
    socket = await connect(server, path, token=token, name="outsider" if who == "guest" else None)
    frames, closed_with = await socket.closed()
    assert (frames, closed_with) == ([], code)


async def test_a_member_may_use_a_private_room(server, site, connect: Connect):
    page = await connect(server, "/ws/chat/secret/", token=site.token("alice"))
    await page.send({"message": "members only"})
    assert await page.recv() == {"message": "members only"}


@pytest.mark.parametrize("path", ["/ws/chat/bad slug/", "/ws/chat/", "/ws/chat/echo/extra/", "/ws/nope/"])
async def test_a_path_that_is_not_a_route_is_refused(server, path):
    with pytest.raises(InvalidStatus) as refused:
        await Client.open(f"{server.ws_url}{path.replace(' ', '%20')}")
    assert refused.value.response.status_code == 403


async def test_anonymous_is_closed_4401_when_guests_are_off(site, connect: Connect):
    guestless = site.start(PARLEY_GUESTS="0")
    anonymous = await connect(guestless, "/ws/chat/echo/", name="zed")
    _, code = await anonymous.closed()
    assert code == 4401
    member = await connect(guestless, "/ws/chat/echo/", token=site.token("alice"))
    await member.send({"message": "still open to members"})
    assert await member.recv() == {"message": "still open to members"}


async def test_a_frame_over_64_kib_closes_1009(server, connect: Connect):
    page = await connect(server, "/ws/chat/echo/", name="loud")
    await page.send(json.dumps({"message": "x" * 64 * 1024}))
    assert await page.closed() == ([], 1009)
