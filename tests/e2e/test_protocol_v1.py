"""Protocol v1 at ``/ws/`` against a real Daphne process on SQLite, over real sockets.

One module, longer than most, on purpose: it walks docs/protocol.md section by section against
servers started once for the module, which a split would start again for each file.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.asyncio.client import connect as open_socket

from tests.e2e.client import Client, Connect, Frame
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.servers import NO_RATE_LIMITS, ServerProcess

pytestmark = [pytest.mark.e2e]

ROOMS = (
    RoomSpec("welcome"),
    RoomSpec("lounge"),
    RoomSpec("chat"),
    RoomSpec("replay"),
    RoomSpec("race"),
    RoomSpec("limited"),
    RoomSpec("quiet", guests=True),
    RoomSpec("retry", guests=True),
    RoomSpec("guest-retry", guests=True),
    RoomSpec("pages"),
    RoomSpec("errors", guests=True),
    RoomSpec("members"),
    RoomSpec("vault", private=True, members=("alice",)),
    RoomSpec("identity", guests=True),
    RoomSpec("sizes"),
    RoomSpec("emoji"),
)
USERS = (UserSpec("alice"), UserSpec("bob"), UserSpec("sam", staff=True))


@pytest.fixture(scope="module")
def site(site_factory) -> Site:
    return site_factory(rooms=ROOMS, users=USERS)


@pytest.fixture(scope="module")
def server(site: Site) -> ServerProcess:
    """Daphne with the default limits and guests on, rate limits off: the module's tests share its
    users and together send far more than one user's burst (tests/realtime/test_rate_limits.py)."""
    return site.start(**NO_RATE_LIMITS)


@pytest.fixture(scope="module")
def limited_server(site: Site) -> ServerProcess:
    """Daphne that replays at most 5 messages on subscribe."""
    return site.start(PARLEY_REPLAY_LIMIT="5")


@pytest.fixture(scope="module")
def guestless_server(site: Site) -> ServerProcess:
    """Daphne with guests off."""
    return site.start(PARLEY_GUESTS="0")


async def post(client: Client, room: str, count: int, prefix: str) -> list[Frame]:
    """Send ``count`` messages from a client that follows no room; return their acks."""
    acks = []
    for i in range(count):
        ack = await client.request(
            {"type": "send", "room": room, "body": f"{prefix} {i}", "client_id": f"{prefix}-{i}"}
        )
        assert ack["type"] == "ack", ack
        acks.append(ack)
    return acks


async def ping_answers(client: Client, ref: Any = "alive") -> None:
    """The connection is open and the next frame it gets is the pong."""
    assert await client.request({"type": "ping", "ref": ref}) == {"type": "pong", "ref": ref}


def seqs(frames: list[Frame]) -> list[int]:
    return [frame["seq"] for frame in frames if frame["type"] == "message"]


async def send_and_see(client: Client, frame: Frame) -> tuple[Frame, Frame]:
    """Send from a client subscribed to the room; return its ack and its own message, in either order."""
    await client.send(frame)
    mine: dict[str, Frame] = {}
    while set(mine) != {"ack", "message"}:
        reply = await client.recv()
        if reply.get("client_id") == frame["client_id"]:
            mine[reply["type"]] = reply
    return mine["ack"], mine["message"]


async def test_subscribe_answers_subscribed_with_head(server, site, connect: Connect):
    alice = await connect(server, token=site.token("alice"))
    reply = await alice.request({"type": "subscribe", "room": "welcome", "ref": 7})
    assert reply == {"type": "subscribed", "ref": 7, "room": "welcome", "head": 0, "truncated": False}


async def test_send_is_acked_and_delivered_as_a_message(server, site, connect: Connect):
    alice = await connect(server, token=site.token("alice"))
    bob = await connect(server, token=site.token("bob"))
    await alice.request({"type": "subscribe", "room": "chat"})
    await bob.request({"type": "subscribe", "room": "chat"})
    before = datetime.now(UTC)
    ack, own_copy = await send_and_see(
        alice, {"type": "send", "room": "chat", "body": "hello, world", "client_id": "c-1", "ref": "s1"}
    )
    assert ack == {"type": "ack", "ref": "s1", "room": "chat", "client_id": "c-1", "seq": 1, "id": ack["id"]}
    assert isinstance(ack["id"], int)
    message = await bob.recv()
    assert message == own_copy
    assert message == {
        "type": "message",
        "room": "chat",
        "seq": 1,
        "id": ack["id"],
        "author": {"id": site.users["alice"].id, "name": "alice", "guest": False},
        "body": "hello, world",
        "created_at": message["created_at"],
        "client_id": "c-1",
        "edited_at": None,
        "deleted": False,
        "reactions": {},
        "mine": [],
        "reply_to": None,
        "thread_count": 0,
        "attachments": [],
    }
    assert message["created_at"].endswith("Z")
    created = datetime.fromisoformat(message["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) < created < datetime.now(UTC) + timedelta(seconds=5)


async def test_subscribe_since_replays_the_rest_oldest_first_then_goes_live(server, site, connect: Connect):
    sender = await connect(server, token=site.token("alice"))
    acks = await post(sender, "replay", 6, "replayed")
    assert [ack["seq"] for ack in acks] == [1, 2, 3, 4, 5, 6]

    reader = await connect(server, token=site.token("bob"))
    await reader.send({"type": "subscribe", "room": "replay", "since": 2, "ref": "r"})
    frames = await reader.recv_until("subscribed")
    assert [(frame["type"], frame.get("seq"), frame.get("body")) for frame in frames] == [
        ("message", 3, "replayed 2"),
        ("message", 4, "replayed 3"),
        ("message", 5, "replayed 4"),
        ("message", 6, "replayed 5"),
        ("subscribed", None, None),
    ]
    assert frames[-1] == {"type": "subscribed", "ref": "r", "room": "replay", "head": 6, "truncated": False}
    assert [frame["id"] for frame in frames[:-1]] == [ack["id"] for ack in acks[2:]]

    await post(sender, "replay", 1, "live")
    live = await reader.recv()
    assert (live["type"], live["seq"], live["body"]) == ("message", 7, "live 0")


async def test_subscribe_without_since_or_at_head_replays_nothing(server, site, connect: Connect):
    sender = await connect(server, token=site.token("alice"))
    await post(sender, "lounge", 3, "old")
    reader = await connect(server, token=site.token("bob"))
    for frame in ({"type": "subscribe", "room": "lounge"}, {"type": "subscribe", "room": "lounge", "since": 3}):
        reply = await reader.request(frame)
        assert reply == {"type": "subscribed", "room": "lounge", "head": 3, "truncated": False}


async def test_subscribe_since_while_others_send_loses_and_doubles_nothing(server, site, connect: Connect):
    """Readers resume from a past seq while two senders keep posting: each sees an exact run of seqs."""
    per_sender = 40
    total = 2 * per_sender
    senders = [await connect(server, token=site.token(name)) for name in ("alice", "bob")]
    acked: list[int] = []
    progress = asyncio.Condition()

    async def send_all(client: Client, prefix: str) -> None:
        for i in range(per_sender):
            (ack,) = await post(client, "race", 1, f"{prefix}{i}")
            async with progress:
                acked.append(ack["seq"])
                progress.notify_all()

    tasks = [asyncio.create_task(send_all(client, name)) for client, name in zip(senders, "ab", strict=True)]
    readers: list[tuple[int, Client]] = []
    for threshold in (5, 20, 35, 50, 65):
        async with progress:
            await asyncio.wait_for(progress.wait_for(lambda n=threshold: len(acked) >= n), 10)
        reader = await connect(server, token=site.token("sam"))
        since = max(acked) - 4
        await reader.send({"type": "subscribe", "room": "race", "since": since})
        readers.append((since, reader))
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert sorted(acked) == list(range(1, total + 1))

    for since, reader in readers:
        frames = await reader.recv_until("subscribed")
        while total not in seqs(frames):
            frames.append(await reader.recv())
        (subscribed,) = [frame for frame in frames if frame["type"] == "subscribed"]
        assert subscribed["truncated"] is False
        assert seqs(frames) == list(range(since + 1, total + 1)), f"reader since {since}"
        at = frames.index(subscribed)
        assert all(frame["seq"] <= subscribed["head"] for frame in frames[:at])
        assert all(frame["seq"] > subscribed["head"] for frame in frames[at + 1 :])
        await ping_answers(reader)


async def test_replay_limit_gives_the_newest_and_says_truncated(limited_server, site, connect: Connect):
    sender = await connect(limited_server, token=site.token("alice"))
    await post(sender, "limited", 8, "n")
    reader = await connect(limited_server, token=site.token("bob"))
    for since, truncated in ((0, True), (2, True), (3, False), (6, False)):
        await reader.send({"type": "subscribe", "room": "limited", "since": since})
        frames = await reader.recv_until("subscribed")
        assert seqs(frames) == list(range(max(since, 3) + 1, 9)), f"since {since}"
        assert frames[-1] == {"type": "subscribed", "room": "limited", "head": 8, "truncated": truncated}


async def test_unsubscribe_stops_messages(server, site, connect: Connect):
    leaver = await connect(server, name="leaver")
    stayer = await connect(server, name="stayer")
    for client in (leaver, stayer):
        await client.request({"type": "subscribe", "room": "quiet"})
    reply = await leaver.request({"type": "unsubscribe", "room": "quiet", "ref": "bye"})
    assert reply == {"type": "unsubscribed", "ref": "bye", "room": "quiet"}

    sender = await connect(server, token=site.token("alice"))
    await post(sender, "quiet", 2, "after")
    assert seqs([await stayer.recv(), await stayer.recv()]) == [1, 2]
    # The hub offers a message to every local subscriber at once: had the leaver still been
    # subscribed, its copies would already be queued ahead of this pong.
    await ping_answers(leaver)


async def test_repeated_client_id_returns_the_first_ack_and_stores_nothing(server, site, connect: Connect):
    alice = await connect(server, token=site.token("alice"))
    first = await alice.request({"type": "send", "room": "retry", "body": "once", "client_id": "dup", "ref": 1})
    again = await alice.request({"type": "send", "room": "retry", "body": "twice", "client_id": "dup", "ref": 2})
    assert first["type"] == "ack"
    assert again == {**first, "ref": 2}
    # The rule is per sender: the same client_id from someone else is a new message.
    bob = await connect(server, token=site.token("bob"))
    other = await bob.request({"type": "send", "room": "retry", "body": "bob's", "client_id": "dup"})
    assert (other["type"], other["seq"]) == ("ack", 2)

    page = await alice.request({"type": "history", "room": "retry"})
    assert [(m["seq"], m["body"], m["author"]["name"]) for m in page["messages"]] == [
        (1, "once", "alice"),
        (2, "bob's", "bob"),
    ]


async def test_guest_retry_is_recognised_within_its_connection(server, site, connect: Connect):
    guest = await connect(server, name="gus")
    first = await guest.request({"type": "send", "room": "guest-retry", "body": "g", "client_id": "g-1"})
    again = await guest.request({"type": "send", "room": "guest-retry", "body": "g", "client_id": "g-1"})
    assert first["type"] == "ack"
    assert again == first
    page = await guest.request({"type": "history", "room": "guest-retry"})
    assert [message["seq"] for message in page["messages"]] == [1]


async def test_history_pages_oldest_first(server, site, connect: Connect):
    alice = await connect(server, token=site.token("alice"))
    acks = await post(alice, "pages", 7, "p")
    reader = await connect(server, token=site.token("bob"))

    async def page(**fields: Any) -> list[int]:
        reply = await reader.request({"type": "history", "room": "pages", **fields})
        assert (reply["type"], reply["room"]) == ("history", "pages"), reply
        return [message["seq"] for message in reply["messages"]]

    assert await page() == [1, 2, 3, 4, 5, 6, 7]
    assert await page(limit=3) == [5, 6, 7]
    assert await page(before=5, limit=3) == [2, 3, 4]
    assert await page(before=2, limit=3) == [1]
    assert await page(before=1) == []
    assert await page(before=100, limit=2) == [6, 7]

    reply = await reader.request({"type": "history", "room": "pages", "before": 2, "ref": "h"})
    assert reply == {
        "type": "history",
        "ref": "h",
        "room": "pages",
        "messages": [
            {
                "room": "pages",
                "seq": 1,
                "id": acks[0]["id"],
                "author": {"id": site.users["alice"].id, "name": "alice", "guest": False},
                "body": "p 0",
                "created_at": reply["messages"][0]["created_at"],
                "client_id": "p-0",
                "edited_at": None,
                "deleted": False,
                "reactions": {},
                "mine": [],
                "reply_to": None,
                "thread_count": 0,
                "attachments": [],
            }
        ],
        "thread": None,
    }


async def test_history_limit_defaults_to_50(server, site, connect: Connect):
    alice = await connect(server, token=site.token("alice"))
    await post(alice, "sizes", 55, "s")
    reply = await alice.request({"type": "history", "room": "sizes"})
    assert [m["seq"] for m in reply["messages"]] == list(range(6, 56))
    reply = await alice.request({"type": "history", "room": "sizes", "limit": 100})
    assert len(reply["messages"]) == 55


async def test_ping_answers_pong(server, connect: Connect):
    client = await connect(server, name="pinger")
    assert await client.request({"type": "ping"}) == {"type": "pong"}
    assert await client.request({"type": "ping", "ref": 42}) == {"type": "pong", "ref": 42}
    assert await client.request({"type": "ping", "ref": "abc"}) == {"type": "pong", "ref": "abc"}


TOO_LONG = json.dumps({"type": "send", "room": "errors", "body": "x" * 4001, "client_id": "c", "ref": "big"})

BAD_FRAMES: list[tuple[str, str | bytes, str, Any]] = [
    # (identity, frame as sent, expected code, expected ref or None)
    ("guest", "this is not JSON", "invalid", None),
    ("guest", '{"type": "ping", "ref": 1', "invalid", None),
    ("guest", "[1, 2, 3]", "invalid", None),
    ("guest", '"ping"', "invalid", None),
    ("guest", "42", "invalid", None),
    ("guest", "null", "invalid", None),
    ("guest", b'{"type": "ping"}', "invalid", None),
    ("guest", '{"ref": "no-type"}', "invalid", "no-type"),
    ("guest", '{"type": "dance", "ref": 1}', "invalid", 1),
    ("guest", '{"type": 5, "ref": 2}', "invalid", 2),
    ("guest", '{"type": "subscribe", "ref": 3}', "invalid", 3),
    ("guest", '{"type": "unsubscribe", "ref": 4}', "invalid", 4),
    ("guest", '{"type": "send", "room": "errors", "body": "hi", "ref": 5}', "invalid", 5),
    ("guest", '{"type": "send", "room": "errors", "client_id": "c", "ref": 6}', "invalid", 6),
    ("guest", '{"type": "history", "ref": 7}', "invalid", 7),
    ("guest", '{"type": "subscribe", "room": "no spaces", "ref": 8}', "invalid", 8),
    ("guest", '{"type": "subscribe", "room": "", "ref": 9}', "invalid", 9),
    ("guest", json.dumps({"type": "subscribe", "room": "a" * 65, "ref": 10}), "invalid", 10),
    ("guest", '{"type": "subscribe", "room": "../errors", "ref": 11}', "invalid", 11),
    ("guest", '{"type": "subscribe", "room": 12, "ref": 12}', "invalid", 12),
    ("guest", '{"type": "subscribe", "room": "errors", "since": "3", "ref": 13}', "invalid", 13),
    ("guest", '{"type": "subscribe", "room": "errors", "since": -1, "ref": 14}', "invalid", 14),
    ("guest", '{"type": "subscribe", "room": "errors", "since": 1.5, "ref": 15}', "invalid", 15),
    ("guest", '{"type": "send", "room": "errors", "body": 5, "client_id": "c", "ref": 16}', "invalid", 16),
    ("guest", '{"type": "send", "room": "errors", "body": "hi", "client_id": 7, "ref": 17}', "invalid", 17),
    ("guest", '{"type": "send", "room": "errors", "body": "", "client_id": "c", "ref": 18}', "invalid", 18),
    ("guest", '{"type": "send", "room": "errors", "body": "  ", "client_id": "c", "ref": 19}', "invalid", 19),
    ("guest", '{"type": "history", "room": "errors", "limit": "10", "ref": 20}', "invalid", 20),
    ("guest", '{"type": "history", "room": "errors", "limit": 0, "ref": 21}', "invalid", 21),
    ("guest", '{"type": "history", "room": "errors", "limit": 101, "ref": 22}', "invalid", 22),
    ("guest", '{"type": "history", "room": "errors", "before": "x", "ref": 23}', "invalid", 23),
    ("guest", '{"type": "ping", "ref": {"nested": true}}', "invalid", None),
    ("guest", json.dumps({"type": "ping", "ref": "r" * 129}), "invalid", None),
    ("guest", '{"type": "send", "room": "errors", "body": "a\\u0000b", "client_id": "c", "ref": 24}', "invalid", 24),
    ("guest", '{"type": "send", "room": "errors", "body": "\\ud800", "client_id": "c", "ref": 25}', "invalid", 25),
    ("guest", '{"type": "subscribe", "room": "nowhere", "ref": "nf1"}', "not_found", "nf1"),
    ("guest", '{"type": "history", "room": "nowhere", "ref": "nf2"}', "not_found", "nf2"),
    ("guest", '{"type": "send", "room": "nowhere", "body": "b", "client_id": "c", "ref": "nf3"}', "not_found", "nf3"),
    ("bob", '{"type": "subscribe", "room": "vault", "ref": "nf4"}', "not_found", "nf4"),
    ("bob", '{"type": "history", "room": "vault", "ref": "nf5"}', "not_found", "nf5"),
    ("bob", '{"type": "send", "room": "vault", "body": "b", "client_id": "c", "ref": "nf6"}', "not_found", "nf6"),
    ("guest", '{"type": "subscribe", "room": "vault", "ref": "nf7"}', "not_found", "nf7"),
    ("guest", '{"type": "subscribe", "room": "members", "ref": "f1"}', "forbidden", "f1"),
    ("guest", '{"type": "history", "room": "members", "ref": "f2"}', "forbidden", "f2"),
    ("guest", '{"type": "send", "room": "members", "body": "b", "client_id": "c", "ref": "f3"}', "forbidden", "f3"),
    ("guest", TOO_LONG, "too_large", "big"),
]  # fmt: skip


@pytest.mark.parametrize(("who", "frame", "code", "ref"), BAD_FRAMES)
async def test_bad_frame_gets_an_error_and_the_connection_stays_open(
    server, site, connect: Connect, who, frame, code, ref
):
    client = await connect(server, name="tester") if who == "guest" else await connect(server, token=site.token(who))
    error = await client.request(frame)
    expected = {"type": "error", "code": code, "detail": error.get("detail")}
    if ref is not None:
        expected["ref"] = ref
    assert error == expected
    assert isinstance(error["detail"], str)
    assert len(error["detail"]) > 10
    await ping_answers(client)


async def test_bad_frames_store_nothing(server, site, connect: Connect):
    client = await connect(server, token=site.token("alice"))
    reply = await client.request({"type": "history", "room": "errors"})
    assert reply == {"type": "history", "room": "errors", "messages": [], "thread": None}


async def test_body_limit_counts_characters(server, site, connect: Connect):
    client = await connect(server, token=site.token("alice"))
    emoji = "\N{GRINNING FACE}" * 4000  # 4000 characters, 16000 bytes
    ack = await client.request({"type": "send", "room": "emoji", "body": emoji, "client_id": "emoji"})
    assert ack["type"] == "ack"
    too_long = await client.request({"type": "send", "room": "emoji", "body": emoji + "!", "client_id": "emoji-2"})
    assert (too_long["type"], too_long["code"]) == ("error", "too_large")


async def test_members_and_staff_may_use_a_private_room(server, site, connect: Connect):
    for head, name in enumerate(("alice", "sam")):
        client = await connect(server, token=site.token(name))
        reply = await client.request({"type": "subscribe", "room": "vault"})
        assert reply == {"type": "subscribed", "room": "vault", "head": head, "truncated": False}
        ack, message = await send_and_see(
            client, {"type": "send", "room": "vault", "body": f"from {name}", "client_id": name}
        )
        assert (ack["seq"], message["seq"], message["author"]["name"]) == (head + 1, head + 1, name)


async def test_frame_at_the_limit_is_read_and_over_it_closes_1009(server, site, connect: Connect):
    client = await connect(server, token=site.token("alice"))
    head = '{"type": "ping", "ref": "edge", "pad": "'
    at_limit = head + "x" * (64 * 1024 - len(head) - 2) + '"}'
    assert len(at_limit.encode()) == 64 * 1024
    assert await client.request(at_limit) == {"type": "pong", "ref": "edge"}
    await client.send(at_limit[:-2] + 'x"}')
    frames, code = await client.closed()
    assert (frames, code) == ([], 1009)


async def test_token_identity_is_the_author(server, site, connect: Connect):
    alice = await connect(server, token=site.token("alice"))
    await alice.request({"type": "subscribe", "room": "identity"})
    _, message = await send_and_see(
        alice, {"type": "send", "room": "identity", "body": "it is me", "client_id": "tok-1"}
    )
    assert message["author"] == {"id": site.users["alice"].id, "name": "alice", "guest": False}


@pytest.mark.parametrize(
    "authorization", ["Bearer parley_not-a-real-token", "Bearer not-even-the-prefix", "Bearer ", "Basic YWxpY2U6cHc="]
)
async def test_bad_token_closes_4401(server, authorization):
    async with open_socket(server.ws_url + "/ws/", additional_headers={"Authorization": authorization}) as socket:
        frames, code = await Client(socket).closed()
    assert code == 4401
    assert all(frame["type"] == "error" for frame in frames)


async def test_anonymous_is_closed_4401_when_guests_are_off(guestless_server, site, connect: Connect):
    anonymous = await connect(guestless_server, name="zed")
    _, code = await anonymous.closed()
    assert code == 4401
    member = await connect(guestless_server, token=site.token("alice"))
    await ping_answers(member)


async def test_guest_name_shows_as_author(server, connect: Connect):
    guest = await connect(server, name="Zed the guest")
    await guest.request({"type": "subscribe", "room": "identity"})
    _, message = await send_and_see(
        guest, {"type": "send", "room": "identity", "body": "hi from a guest", "client_id": "g-1"}
    )
    assert message["author"] == {"id": None, "name": "Zed the guest", "guest": True}


async def test_author_field_in_a_frame_is_ignored(server, site, connect: Connect):
    bob = await connect(server, token=site.token("bob"))
    await bob.request({"type": "subscribe", "room": "identity"})
    forged = {"id": site.users["alice"].id, "name": "alice", "guest": False}
    for client, client_id in ((bob, "forge-1"), (await connect(server, name="mallory"), "forge-2")):
        await client.send(
            {
                "type": "send",
                "room": "identity",
                "body": "forged?",
                "client_id": client_id,
                "author": forged,
                "guest_name": "alice",
                "user": "alice",
            }
        )
    received: list[Frame] = []
    while len(received) < 2:
        frame = await bob.recv()
        if frame["type"] == "message":
            received.append(frame)
    assert {frame["client_id"]: frame["author"] for frame in received} == {
        "forge-1": {"id": site.users["bob"].id, "name": "bob", "guest": False},
        "forge-2": {"id": None, "name": "mallory", "guest": True},
    }
