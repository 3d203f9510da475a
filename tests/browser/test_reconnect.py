"""The chat page under faults: a server restart, a frame lost on the way, a database that says "retry".

What a person sees must match what the server stored: every message once, in seq order, and
everything they typed while offline sent exactly once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.pages import WAIT_MS, Parley, log_in, message, open_room, send, shown_seqs, wait_live
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# The page's back-off is capped at 15 s; a reconnect may take that long after the server is back.
RECONNECT_MS = 20_000
NOT_LIVE = re.compile(r"\b(offline|connecting)\b")
NOT_LIVE_TEXT = re.compile(r"^(Offline|Reconnecting)")
# Messages stored while the server is down: more than the restarted server replays, and more than
# one history page (100), so the page has to fill the gap with two requests.
MISSED = 130
REPLAY_LIMIT = 5

STORED = """
import json
from parley.rooms.models import Message
rows = Message.objects.filter(room__slug={slug!r}).order_by("seq").values_list("seq", "body", "client_id")
print(json.dumps(list(rows)))
"""

POST_WHILE_DOWN = """
from django.contrib.auth.models import User
from parley.accounts.identity import user_identity
from parley.rooms.services import message_send
sender = user_identity(User.objects.get(username={author!r}))
for i in range({count}):
    message_send(slug={slug!r}, sender=sender, body=f"while down {{i}}", client_id=f"down-{{i}}")
"""


def stored(parley: Parley, slug: str) -> list[tuple[int, str, str]]:
    """The room's messages in the database, as (seq, body, client_id), in seq order."""
    rows = json.loads(parley.manage("shell", "-c", STORED.format(slug=slug)).strip().splitlines()[-1])
    return [(seq, body, client_id) for seq, body, client_id in rows]


def bodies(page: Page) -> list[str]:
    return page.locator("#messages .message .body").all_inner_texts()


def frames_sent_by(page: Page) -> list[dict[str, Any]]:
    """Every frame ``page`` sends on its sockets, decoded, as it sends them."""
    sent: list[dict[str, Any]] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(json.loads(payload))))
    return sent


def wait_for(condition: Callable[[], bool], page: Page, timeout_ms: int = WAIT_MS) -> None:
    """Wait until ``condition()`` holds, letting the page's events run meanwhile."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        assert time.monotonic() < deadline, f"still waiting after {timeout_ms} ms"
        page.wait_for_timeout(50)


@pytest.fixture
def restart() -> Iterator[Callable[..., ServerProcess]]:
    """Start a stopped server again on its port and database: ``restart(server, SETTING="x")``."""
    started: list[ServerProcess] = []

    def start(server: ServerProcess, **env_overrides: str) -> ServerProcess:
        log = server.log.with_name(f"{server.log.stem}-restarted-{len(started)}.log")
        again = ServerProcess(env={**server.env, **env_overrides}, log=log, kind=server.kind, port=server.port)
        started.append(again)
        return again.start()

    yield start
    for server in started:
        server.stop()


# `restart` comes first so that it is torn down last, once the pages have closed their sockets.
def test_page_survives_a_server_restart_with_nothing_missing_or_doubled(
    restart: Callable[..., ServerProcess], parley: Parley
) -> None:
    parley.create_users("alice", "bob", "carol")
    parley.manage("createroom", "ops")
    alice, bob = parley.new_page(), parley.new_page()
    alice_sent = frames_sent_by(alice)
    log_in(alice, "alice")
    log_in(bob, "bob")
    open_room(alice, "ops")
    open_room(bob, "ops")
    send(alice, "before the outage")
    send(bob, "me too")
    for page in (alice, bob):
        expect(message(page, "me too")).to_have_count(1, timeout=WAIT_MS)

    parley.server.kill()
    for page in (alice, bob):
        expect(page.locator("#connection")).to_have_class(NOT_LIVE, timeout=WAIT_MS)
        expect(page.locator("#connection")).to_have_text(NOT_LIVE_TEXT, timeout=WAIT_MS)

    # Typed while the server is down: shown at once, pending, and kept until it can be sent.
    send(alice, "queued one")
    send(alice, "queued two")
    for body in ("queued one", "queued two"):
        expect(message(alice, body)).to_have_count(1, timeout=WAIT_MS)
        expect(message(alice, body)).to_have_class(re.compile(r"\bpending\b"), timeout=WAIT_MS)
    expect(alice.locator("#connection")).to_have_class(NOT_LIVE, timeout=WAIT_MS)
    expect(alice.locator("#connection")).to_have_text(NOT_LIVE_TEXT, timeout=WAIT_MS)

    # Meanwhile another writer stores more than the restarted server will replay.
    parley.manage("shell", "-c", POST_WHILE_DOWN.format(author="carol", count=MISSED, slug="ops"))
    restart(parley.server, PARLEY_REPLAY_LIMIT=str(REPLAY_LIMIT))
    send(bob, "back again")  # right after the restart, whether or not bob's page is live yet

    for page in (alice, bob):
        expect(page.locator("#connection")).to_have_text("Live", timeout=RECONNECT_MS)
    for page in (alice, bob):
        for body in ("queued one", "queued two", "back again", "while down 0", f"while down {MISSED - 1}"):
            expect(message(page, body)).to_have_count(1, timeout=WAIT_MS)
        expect(page.locator("#messages .message.pending")).to_have_count(0, timeout=WAIT_MS)

    rows = stored(parley, "ops")
    assert [body for _, body, _ in rows].count("queued one") == 1
    assert [body for _, body, _ in rows].count("queued two") == 1
    seqs = [seq for seq, _, _ in rows]
    assert seqs == list(range(1, 2 + MISSED + 3 + 1))
    for page in (alice, bob):
        expect(page.locator("#messages .message[data-seq]")).to_have_count(len(rows), timeout=WAIT_MS)
        assert shown_seqs(page) == seqs
        assert bodies(page) == [body for _, body, _ in rows]

    # The gap behind the truncated replay was paged in from history, at most 100 at a time.
    pages = [frame for frame in alice_sent if frame["type"] == "history"]
    assert len(pages) >= 2
    assert all(frame["limit"] <= 100 for frame in pages)
    # Each queued message was resent with the client_id it was given when typed.
    sends = {frame["body"]: frame["client_id"] for frame in alice_sent if frame["type"] == "send"}
    assert {(body, client_id) for _, body, client_id in rows if body.startswith("queued")} == {
        ("queued one", sends["queued one"]),
        ("queued two", sends["queued two"]),
    }


def test_a_message_lost_on_the_way_is_filled_in_from_history(parley: Parley) -> None:
    parley.create_users("alice", "bob")
    parley.manage("createroom", "ops")
    alice, bob = parley.new_page(), parley.new_page()
    asked: list[dict[str, Any]] = []

    def lose_one_message(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def to_server(payload: str | bytes) -> None:
            asked.append(json.loads(payload))
            server_side.send(payload)

        def to_page(payload: str | bytes) -> None:
            frame = json.loads(payload)
            if frame["type"] == "message" and frame["body"] == "lost on the way":
                return
            page_side.send(payload)

        page_side.on_message(to_server)
        server_side.on_message(to_page)

    alice.route_web_socket(re.compile(r"/ws/$"), lose_one_message)
    log_in(alice, "alice")
    log_in(bob, "bob")
    open_room(alice, "ops")
    open_room(bob, "ops")
    for body in ("first", "lost on the way", "third"):
        send(bob, body)
        expect(message(bob, body)).not_to_have_class(re.compile(r"\bpending\b"), timeout=WAIT_MS)

    expect(alice.locator("#messages .message[data-seq]")).to_have_count(3, timeout=WAIT_MS)
    assert shown_seqs(alice) == [1, 2, 3]
    assert bodies(alice) == ["first", "lost on the way", "third"]
    fills = [frame for frame in asked if frame["type"] == "history"]
    assert [(frame["room"], frame["before"], frame["limit"]) for frame in fills] == [("ops", 3, 1)]


def test_sends_the_server_could_not_store_are_retried_and_refused_ones_are_dropped(parley: Parley) -> None:
    parley.create_users("alice", "bob")
    parley.manage("createroom", "ops")
    alice, bob = parley.new_page(), parley.new_page()
    attempts: list[dict[str, Any]] = []
    outage = {"subscribe": 1, "database": True}

    def error(ref: str, code: str, detail: str) -> str:
        return json.dumps({"type": "error", "ref": ref, "code": code, "detail": detail})

    def flaky_database(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def to_server(payload: str | bytes) -> None:
            frame = json.loads(payload)
            if frame["type"] == "subscribe" and outage["subscribe"]:
                outage["subscribe"] -= 1
                page_side.send(error(frame["ref"], "unavailable", "The database is unavailable right now."))
                return
            if frame["type"] == "send" and frame["body"] == "refused":
                page_side.send(error(frame["ref"], "forbidden", "You may not post in this room."))
                return
            if frame["type"] == "send" and frame["body"] == "stored in the end":
                attempts.append(frame)
                if outage["database"]:
                    code = "unavailable" if len(attempts) % 2 else "internal"
                    page_side.send(error(frame["ref"], code, "Nothing was stored; retry."))
                    return
            server_side.send(payload)

        page_side.on_message(to_server)

    alice.route_web_socket(re.compile(r"/ws/$"), flaky_database)
    log_in(alice, "alice")
    log_in(bob, "bob")
    open_room(alice, "ops")  # live only once the subscribe is retried after "unavailable"
    assert outage["subscribe"] == 0
    open_room(bob, "ops")

    send(alice, "stored in the end")
    wait_for(lambda: len(attempts) >= 3, alice)
    pending = message(alice, "stored in the end")
    expect(pending).to_have_class(re.compile(r"\bpending\b"), timeout=WAIT_MS)
    expect(pending.locator("time")).to_have_text("retrying…", timeout=WAIT_MS)
    expect(alice.locator(".composer-error")).to_have_count(0, timeout=WAIT_MS)
    outage["database"] = False

    expect(message(alice, "stored in the end")).to_have_count(1, timeout=WAIT_MS)
    # The next retry may come a whole back-off later (up to 8 s by now).
    expect(message(alice, "stored in the end")).not_to_have_class(re.compile(r"\bpending\b"), timeout=RECONNECT_MS)
    expect(message(bob, "stored in the end")).to_have_count(1, timeout=WAIT_MS)
    assert {frame["client_id"] for frame in attempts} == {attempts[0]["client_id"]}
    assert [(body, client_id) for _, body, client_id in stored(parley, "ops")] == [
        ("stored in the end", attempts[0]["client_id"])
    ]

    send(alice, "refused")
    expect(alice.locator(".composer-error")).to_have_text("You may not post in this room.", timeout=WAIT_MS)
    expect(message(alice, "refused")).to_have_count(0, timeout=WAIT_MS)
    wait_live(alice)
    assert shown_seqs(alice) == [1]
    assert shown_seqs(bob) == [1]
