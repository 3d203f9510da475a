"""Hypothesis throws arbitrary frames at a live server: every one gets a defined answer.

One Uvicorn process, one bearer-token socket kept open across examples. Each example sends one
frame (valid, broken JSON, wrong types, huge numbers, deep nesting, binary, over the size limit),
then a ping. Everything the server sends back must be a frame of the protocol's server models
with no fields besides theirs, never an ``internal`` error; the ping must be answered (only a
frame over the size limit may close the socket, with 1009). Afterwards the server's log holds
no traceback and the database holds exactly the acknowledged messages, each one valid.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from parley.wire import frames
from parley.wire import text as limits
from tests.frames import received_frame
from tests.servers import ServerProcess, manage

pytestmark = pytest.mark.e2e

TIMEOUT = 5.0
MAX_FRAME = 64 * 1024
# Rate limits would answer rate_limited before validation: the fuzzer tests validation.
UNLIMITED = {f"PARLEY_{kind}_RATE": "0" for kind in ("SEND", "SUBSCRIBE", "HISTORY", "FRAME", "HANDSHAKE")}
# Frames that arrive on their own, not as the answer to a frame.
UNSOLICITED = {"message", "notification"}


# --- what the fuzzer sends ------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
rooms = st.sampled_from(["lobby", "secret", "nowhere", "", "a b", "x" * 65, "lobby\n", "löbby", "../lobby"])
texts = st.text(max_size=40) | st.sampled_from(
    ["\ud800", "a\udc00b", "a\x00b", "\u202eevil", "e" + "\u0301" * 31, "e" + "\u0301" * 30, " \n\t", "<img src=x>"]
)
long_texts = st.builds(lambda char, count: char * count, st.characters(), st.integers(3990, 4010))
numbers = st.integers(min_value=-5, max_value=120) | st.integers() | st.floats() | st.sampled_from([2**63 - 1, 2**63])
frame_types = st.sampled_from([*frames.CLIENT_FRAME_TYPES, "launch", "PING", ""]) | json_values

frame_dicts = st.fixed_dictionaries(
    {"type": frame_types},
    optional={
        "room": rooms | json_values,
        "body": texts | long_texts | json_values,
        "client_id": st.uuids().map(str) | texts | json_values,
        "since": numbers | json_values,
        "before": numbers | json_values,
        "limit": numbers | json_values,
        "ref": st.text(max_size=130) | texts | numbers | json_values,
        "id": numbers,
        "all": st.booleans() | json_values,
        # A frame cannot choose its author: these must be ignored.
        "author": st.just({"id": 1, "name": "admin", "guest": False}),
        "user": st.just("admin"),
        "user_id": st.just(1),
    },
)

# Frames of the protocol's own shapes, with mostly sensible values, so that sends are stored,
# subscriptions replay and history pages come back while the fuzzer runs.
valid_rooms = st.sampled_from(["lobby", "lobby", "secret", "nowhere"])
refs = st.fixed_dictionaries({}, optional={"ref": st.text(max_size=8) | st.integers(-(2**63) + 1, 2**63 - 1)})
seqs = st.integers(0, 50) | st.integers(0, 2**63 - 1)
spoofs = st.fixed_dictionaries({}, optional={"author": st.just({"id": 1, "name": "admin"}), "user_id": st.just(1)})
printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=60)
sends = st.builds(
    lambda room, body, client_id, extra, spoof: {
        "type": "send",
        "room": room,
        "body": body,
        "client_id": client_id,
        **extra,
        **spoof,
    },
    valid_rooms,
    printable | texts | long_texts,
    st.uuids().map(str) | st.sampled_from(["same-1", "same-2"]),
    refs,
    spoofs,
)
well_formed = st.one_of(
    sends,
    st.builds(lambda room, since, extra: {"type": "subscribe", "room": room, **since, **extra},
              valid_rooms, st.fixed_dictionaries({}, optional={"since": seqs}), refs),
    st.builds(lambda room, extra: {"type": "unsubscribe", "room": room, **extra}, valid_rooms, refs),
    st.builds(lambda room, page, extra: {"type": "history", "room": room, **page, **extra}, valid_rooms,
              st.fixed_dictionaries({}, optional={"before": seqs, "limit": st.integers(1, 100)}), refs),
    st.builds(lambda extra: {"type": "ping", **extra}, refs),
    st.builds(lambda since, extra: {"type": "notifications", **since, **extra},
              st.fixed_dictionaries({}, optional={"since": seqs}), refs),
    st.builds(lambda target, extra: {"type": "notification_read", **target, **extra},
              st.sampled_from([{"all": True}, {"id": 1}, {"id": 2**63 - 1}, {}]), refs),
)  # fmt: skip


def encode(frame: dict[str, Any], ascii_only: bool) -> str:
    text = json.dumps(frame, ensure_ascii=ascii_only)
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate can only travel as a JSON escape
        text = json.dumps(frame, ensure_ascii=True)
    return text


@dataclass(frozen=True)
class Sent:
    """What one example sends: a text or binary frame, and whether it is over the size limit."""

    payload: str | bytes
    oversize: bool = False


valid_json_frames = st.builds(encode, frame_dicts, st.booleans())
broken_json = valid_json_frames.flatmap(lambda text: st.integers(0, max(len(text) - 1, 0)).map(lambda cut: text[:cut]))
deep_nesting = st.integers(1, MAX_FRAME - 40).flatmap(
    lambda depth: st.sampled_from(
        ["[" * depth, '{"a":' * (depth // 5), '{"type": "ping", "x": ' + "[" * (depth // 2) + "]" * (depth // 2) + "}"]
    )
)
huge_numbers = st.integers(1, 20_000).map(
    lambda digits: '{"type": "subscribe", "room": "lobby", "since": ' + "9" * digits + "}"
)
oversize = st.integers(MAX_FRAME + 1, MAX_FRAME + 2000).map(
    lambda size: Sent('{"type": "ping", "x": "' + "x" * size + '"}', True)
)

sent_frames = st.one_of(
    st.builds(encode, well_formed, st.booleans()).map(Sent),
    st.builds(encode, sends, st.booleans()).map(Sent),  # most frames should get past parsing, sends most of all
    valid_json_frames.map(Sent),
    broken_json.map(Sent),
    st.text(max_size=200).map(Sent),
    deep_nesting.map(Sent),
    huge_numbers.map(Sent),
    st.binary(max_size=200).map(Sent),
    oversize,
)


# --- the live server --------------------------------------------------------------------------


@dataclass
class FuzzTarget:
    """The server, the fuzzer's token and socket, and what the server acknowledged."""

    server: ServerProcess
    database: Path
    token: str
    socket: ClientConnection | None = None
    acked: set[tuple[str, int, str]] = field(default_factory=set)
    probes: int = 0

    def open(self) -> ClientConnection:
        if self.socket is None:
            self.socket = connect(
                f"{self.server.ws_url}/ws/",
                additional_headers={"Authorization": f"Bearer {self.token}"},
                open_timeout=TIMEOUT,
                close_timeout=1,
                max_size=None,
                legacy=True,  # one socket kept open across examples, not a with-block
            )
        return self.socket

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None


@pytest.fixture
def target(server_factory, tmp_path: Path) -> Iterator[FuzzTarget]:
    server = server_factory("uvicorn", **UNLIMITED)
    manage(server.env, "createroom", "lobby")
    manage(server.env, "createroom", "secret", "--private")
    token = manage(server.env, "issuetoken", "fuzzer", "--create").strip().splitlines()[-1]
    fuzz = FuzzTarget(server=server, database=tmp_path / "parley.sqlite3", token=token)
    yield fuzz
    fuzz.close()


def check_frame(text: str | bytes, target: FuzzTarget) -> dict[str, Any]:
    """A frame from the server: JSON text of one of the protocol's server frames, no internal error."""
    frame = received_frame(text)
    assert not (frame["type"] == "error" and frame["code"] == "internal"), f"internal error: {frame}"
    if frame["type"] == "ack":
        target.acked.add((frame["room"], frame["seq"], frame["client_id"]))
    return frame


def exchange(target: FuzzTarget, sent: Sent) -> None:
    """Send one frame and a ping; check everything up to the pong (or the 1009 close)."""
    socket = target.open()
    target.probes += 1
    probe = f"probe-{target.probes}"
    answers: list[dict[str, Any]] = []
    close_code: int | None = None
    try:
        socket.send(sent.payload)
        socket.send(json.dumps({"type": "ping", "ref": probe}))
        while (frame := check_frame(socket.recv(timeout=TIMEOUT), target)) != {"type": "pong", "ref": probe}:
            answers.append(frame)
    except ConnectionClosed as closed:
        target.close()
        close_code = -1 if closed.rcvd is None else closed.rcvd.code
    if sent.oversize:
        assert close_code == 1009, "a frame over PARLEY_MAX_FRAME did not close the socket with 1009"
        return
    assert close_code is None, f"the server closed the socket ({close_code}) after {sent.payload[:200]!r}"
    assert any(frame["type"] not in UNSOLICITED for frame in answers), f"no answer to {sent.payload[:200]!r}"


def stored_messages(database: Path) -> list[tuple[str, int, str, str, int | None, str]]:
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT r.slug, m.seq, m.body, m.client_id, m.author_id, m.guest_id"
            " FROM parley_message m JOIN parley_room r ON r.id = m.room_id ORDER BY r.slug, m.seq"
        ).fetchall()


def fuzzer_id(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT id FROM auth_user WHERE username = 'fuzzer'").fetchone()[0])


def test_arbitrary_frames_get_defined_answers_and_store_only_what_was_acked(target: FuzzTarget) -> None:
    @settings(
        max_examples=250,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(sent=sent_frames)
    def fuzz(sent: Sent) -> None:
        exchange(target, sent)

    fuzz()
    # The socket still answers after everything.
    exchange(target, Sent(json.dumps({"type": "ping"})))

    log = target.server.output()
    assert "Traceback" not in log, log[-4000:]
    assert "could not handle" not in log, log[-4000:]

    rows = stored_messages(target.database)
    assert {(slug, seq, client_id) for slug, seq, _, client_id, _, _ in rows} == target.acked
    author = fuzzer_id(target.database)
    for _, _, body, client_id, author_id, guest_id in rows:
        assert limits.validate_body(body) == body
        assert 1 <= len(client_id) <= 64
        assert (author_id, guest_id) == (author, ""), "a frame chose its own author"
    seqs = [seq for slug, seq, *_ in rows if slug == "lobby"]
    assert seqs == list(range(1, len(seqs) + 1))
    assert all(slug == "lobby" for slug, *_ in rows), "a message was stored in a room the fuzzer may not post to"
