"""A soak test of Parley's delivery promise: many clients, random faults, then a check against the database.

It starts what it measures: a Uvicorn process serving Parley on a fresh, migrated SQLite database
(or the PostgreSQL database named by ``--database-url``, migrated here), with ``--rooms`` rooms open
to guests and one API user per client (so a send retried on a new connection is recognised as the
same sender's). Then, for ``--minutes``, every client connects, subscribes to a few rooms and sends,
while it randomly drops its connection (a clean close or a torn socket, often with a send in flight)
and reconnects, resubscribing each room with ``since`` = the last seq it saw there, subscribes to and
unsubscribes from rooms, and retries every send with the same ``client_id`` until it is
acknowledged. With ``--kill-every`` the server is also killed (SIGKILL) and restarted on the same
port and database.

Each client logs every seq it receives, per room subscription stretch (from a ``subscribe`` to the
``unsubscribed`` reply or the end of the connection). At the end, once every send is acknowledged and
every subscriber has caught up with its rooms' heads, every log is checked against the database:

- lost: a seq the client should have received during a stretch but did not (a stretch starts right
  after its ``since``, or after the head for a subscribe without one, or where a truncated replay
  starts; the last stretch of each room runs to the room's final head);
- duplicated: a seq received twice in a stretch, or one at or below its ``since``;
- out of order: a seq lower than one received before it in the stretch;
- wrong: a received (room, seq) whose message id is not the database's;
- acked missing: an acknowledged send that the database does not hold with the acked seq and id;
- stored twice: one sender's ``client_id`` stored more than once in a room.

All must be zero. The script prints a paragraph and a JSON line, and exits 1 if anything is wrong.

    python -m bench.soak --clients 500 --minutes 10 --rooms 10
    python -m bench.soak --clients 100 --minutes 1 --kill-every 20
    python -m bench.soak --database-url postgres://postgres@127.0.0.1:5432/parley_soak

One module, longer than most, on purpose: the clients' logs and the check against the database
are two halves of one definition (what counts as lost, duplicated or out of order), kept side by
side so neither can drift from the other.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import NO_RATE_LIMITS, ServerProcess, manage, server_env

REPLAY_LIMIT = 1000  # PARLEY_REPLAY_LIMIT, set explicitly on the server so truncations can be checked
RETRYABLE = {"unavailable", "internal"}
ACK_TIMEOUT = 10.0  # resend a send that has no answer after this long, even on a live connection

SEED = """
import json, os
from parley.accounts.services import token_issue, user_get_or_create
from parley.rooms.services import room_get_or_create
spec = json.loads(os.environ["PARLEY_SOAK_SEED"])
for slug in spec["rooms"]:
    room_get_or_create(slug=slug, guests_allowed=True)
tokens = []
for name in spec["users"]:
    user = user_get_or_create(username=name)
    tokens.append([user.pk, token_issue(user=user, name="soak").secret])
with open(spec["out"], "w") as out:
    json.dump(tokens, out)
"""

DUMP = """
import json, os
from parley.rooms.models import Message
spec = json.loads(os.environ["PARLEY_SOAK_DUMP"])
rows = {}
for slug in spec["rooms"]:
    query = Message.objects.filter(room__slug=slug).order_by("seq")
    rows[slug] = list(query.values_list("seq", "id", "client_id", "author_id"))
with open(spec["out"], "w") as out:
    json.dump(rows, out)
"""


# ---------------------------------------------------------------------------------------------
# What each client records


@dataclass
class Stretch:
    """One subscription of one room on one connection: what was asked and every seq received."""

    room: str
    since: int | None
    ref: str
    seqs: array[int] = field(default_factory=lambda: array("q"))
    ids: array[int] = field(default_factory=lambda: array("q"))
    head: int | None = None  # from ``subscribed``; None if the connection ended before it came
    truncated: bool = False
    closing: bool = False  # an unsubscribe was sent; messages may still arrive until ``unsubscribed``
    final: bool = False  # still open when the run ended: it must reach the room's final head


@dataclass
class Pending:
    """A send not acknowledged yet."""

    room: str
    body: str
    first_sent: float
    due_at: float = 0.0  # when to send it (again) if no ack has come by then
    tries: int = 0


@dataclass
class Stats:
    """Counters shared by every client."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    close_codes: Counter[str] = field(default_factory=Counter)
    ack_ms: list[float] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# One simulated client


class Client:
    """One API user with one connection at a time, following a few rooms and sending now and then."""

    def __init__(self, index: int, user_id: int, token: str, rooms: list[str], args: argparse.Namespace, stats: Stats):
        self.index = index
        self.user_id = user_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.rooms = rooms
        self.args = args
        self.stats = stats
        self.rng = random.Random(args.seed * 100_003 + index)
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.wanted: set[str] = set(self.rng.sample(rooms, min(args.subscriptions, len(rooms))))
        self.open: dict[str, Stretch] = {}  # room -> the stretch of the current connection
        self.stretches: list[Stretch] = []
        self.known: dict[str, int] = {}  # room -> the seq this client has caught up to
        self.pending: dict[str, Pending] = {}
        self.acked: dict[str, tuple[str, int, int]] = {}  # client_id -> (room, seq, id)
        self.connect_failures = 0

    # -- connection --------------------------------------------------------------------------

    async def connect(self) -> bool:
        """Open a connection, resubscribe every wanted room and resend what is unacknowledged."""
        try:
            self.ws = await connect(
                self.args.url, additional_headers=self.headers, open_timeout=10, close_timeout=2, max_size=None
            )
        except (OSError, TimeoutError, WebSocketException):
            self.connect_failures += 1
            self.stats.counts["connect_failures"] += 1
            await asyncio.sleep(min(15.0, 0.25 * 2 ** min(self.connect_failures, 6)) * self.rng.random() + 0.1)
            return False
        self.connect_failures = 0
        self.stats.counts["connections"] += 1
        self.reader = asyncio.create_task(self.read(self.ws))
        for room in sorted(self.wanted):
            await self.subscribe(room)
        for client_id in list(self.pending):
            await self.send_frame(client_id)
        return True

    async def drop(self) -> None:
        """Lose the connection: a clean close, or (half the time) a socket torn away."""
        ws, reader = self.ws, self.reader
        if ws is None:
            return
        if self.rng.random() < 0.5:
            self.stats.counts["drops_clean"] += 1
            with contextlib.suppress(Exception):
                await ws.close()
        else:
            self.stats.counts["drops_torn"] += 1
            ws.transport.abort()
        if reader is not None:
            with contextlib.suppress(Exception):
                await reader

    def connection_ended(self, ws: ClientConnection, code: int | None) -> None:
        """Every open stretch of this connection ends here."""
        if self.ws is not ws:
            return
        self.ws = None
        self.stats.close_codes[str(code)] += 1
        self.open.clear()

    async def write(self, frame: dict[str, Any]) -> None:
        if self.ws is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(json.dumps(frame))

    # -- frames ------------------------------------------------------------------------------

    async def read(self, ws: ClientConnection) -> None:
        code: int | None = None
        try:
            async for text in ws:
                self.handle(json.loads(text))
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
        else:
            code = ws.close_code
        finally:
            self.connection_ended(ws, code)

    def handle(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "message":
            self.on_message(frame)
        elif kind == "subscribed":
            stretch = self.open.get(frame["room"])
            if stretch is not None:
                stretch.head, stretch.truncated = frame["head"], frame["truncated"]
                self.known[frame["room"]] = max(self.known.get(frame["room"], 0), frame["head"])
                self.stats.counts["truncated"] += frame["truncated"]
        elif kind == "unsubscribed":
            self.open.pop(frame["room"], None)
        elif kind == "ack":
            self.on_ack(frame)
        elif kind == "error":
            self.on_error(frame)

    def on_message(self, frame: dict[str, Any]) -> None:
        stretch = self.open.get(frame["room"])
        if stretch is None:
            self.stats.counts["stray"] += 1  # a message of a room this connection does not follow
            return
        stretch.seqs.append(frame["seq"])
        stretch.ids.append(frame["id"])
        self.known[frame["room"]] = max(self.known.get(frame["room"], 0), frame["seq"])
        self.stats.counts["deliveries"] += 1

    def on_ack(self, frame: dict[str, Any]) -> None:
        client_id = frame["client_id"]
        answer = (frame["room"], frame["seq"], frame["id"])
        earlier = self.acked.get(client_id)
        if earlier is not None and earlier != answer:
            self.stats.counts["ack_mismatch"] += 1
        self.acked[client_id] = answer
        pending = self.pending.pop(client_id, None)
        if pending is not None:
            self.stats.ack_ms.append((time.monotonic() - pending.first_sent) * 1000)
            self.stats.counts["acks"] += 1

    def on_error(self, frame: dict[str, Any]) -> None:
        code, ref = frame["code"], str(frame.get("ref", ""))
        self.stats.errors[code] += 1
        pending = self.pending.get(ref)
        if pending is not None and code in RETRYABLE:
            pending.due_at = time.monotonic() + min(15.0, 0.25 * 2**pending.tries) * self.rng.random()
            return
        if pending is not None:
            self.stats.counts["sends_refused"] += 1
            del self.pending[ref]
        elif ref.startswith("sub:") and code in RETRYABLE:
            self.stats.counts["subscribe_retries"] += 1
            asyncio.get_running_loop().call_later(1.0, lambda: asyncio.ensure_future(self.resubscribe(ref)))
        else:
            self.stats.counts["errors_unexpected"] += 1

    # -- actions -----------------------------------------------------------------------------

    async def subscribe(self, room: str) -> None:
        """Follow ``room`` from the last seq seen there (or from now, the first time)."""
        stretch = Stretch(room=room, since=self.known.get(room), ref=f"sub:{room}:{len(self.stretches)}")
        self.stretches.append(stretch)
        self.open[room] = stretch
        self.stats.counts["subscribes"] += 1
        frame: dict[str, Any] = {"type": "subscribe", "room": room, "ref": stretch.ref}
        if stretch.since is not None:
            frame["since"] = stretch.since
        await self.write(frame)

    async def resubscribe(self, ref: str) -> None:
        """A subscribe failed with a retryable error: subscribe again if it is still wanted."""
        room = ref.split(":")[1]
        failed = self.open.get(room)
        if self.ws is not None and room in self.wanted and failed is not None and failed.ref == ref:
            del self.open[room]
            await self.subscribe(room)

    async def unsubscribe(self, room: str) -> None:
        self.wanted.discard(room)
        stretch = self.open.get(room)
        if stretch is not None:
            stretch.closing = True
        self.stats.counts["unsubscribes"] += 1
        await self.write({"type": "unsubscribe", "room": room, "ref": f"unsub:{room}"})

    async def toggle_a_room(self) -> None:
        """Subscribe to one more room or leave one, keeping near ``--subscriptions`` rooms."""
        leave = len(self.wanted) > self.args.subscriptions or (bool(self.wanted) and self.rng.random() < 0.5)
        if leave:
            await self.unsubscribe(self.rng.choice(sorted(self.wanted)))
            return
        # Not a room whose unsubscribe is still on its way: its stretch has not ended yet.
        choices = [room for room in self.rooms if room not in self.wanted and room not in self.open]
        if choices:
            room = self.rng.choice(choices)
            self.wanted.add(room)
            await self.subscribe(room)

    async def send_new(self) -> None:
        client_id = uuid.uuid4().hex
        body = f"soak {self.index}: " + "x" * self.rng.randint(1, 200)
        self.pending[client_id] = Pending(room=self.rng.choice(self.rooms), body=body, first_sent=time.monotonic())
        self.stats.counts["sends"] += 1
        await self.send_frame(client_id)

    async def send_frame(self, client_id: str) -> None:
        pending = self.pending[client_id]
        if self.ws is None:
            return
        if pending.tries:
            self.stats.counts["send_retries"] += 1
        pending.tries += 1
        pending.due_at = time.monotonic() + ACK_TIMEOUT
        frame = {"type": "send", "room": pending.room, "body": pending.body, "client_id": client_id, "ref": client_id}
        await self.write(frame)

    async def resend_due(self) -> None:
        """Resend what an error asked to retry, or what has gone unanswered for too long."""
        now = time.monotonic()
        for client_id, pending in list(self.pending.items()):
            if now >= pending.due_at:
                await self.send_frame(client_id)

    def next_due(self) -> float:
        return min((pending.due_at for pending in self.pending.values()), default=float("inf"))

    # -- phases ------------------------------------------------------------------------------

    async def chaos(self, deadline: float) -> None:
        """Until ``deadline``: connect, act at random, drop the connection at random, reconnect."""
        args = self.args
        await asyncio.sleep(self.rng.random() * args.ramp)
        while time.monotonic() < deadline:
            if self.ws is None and not await self.connect():
                continue
            session_end = time.monotonic() + self.rng.expovariate(1 / args.connection_life)
            next_send = time.monotonic() + self.rng.expovariate(1 / args.send_every)
            next_toggle = time.monotonic() + self.rng.expovariate(1 / args.churn_every)
            while self.ws is not None:
                now = time.monotonic()
                if now >= deadline:
                    return
                if now >= session_end:
                    if self.rng.random() < 0.3:
                        await self.send_new()  # and lose the connection before its ack, most likely
                    await self.drop()
                    await asyncio.sleep(self.rng.random() * args.offline)
                    break
                if now >= next_send:
                    await self.send_new()
                    next_send = now + self.rng.expovariate(1 / args.send_every)
                if now >= next_toggle:
                    await self.toggle_a_room()
                    next_toggle = now + self.rng.expovariate(1 / args.churn_every)
                await self.resend_due()
                wake = min(next_send, next_toggle, session_end, deadline, self.next_due())
                await asyncio.sleep(max(0.0, wake - now) + 0.001)

    async def stay_connected(self) -> None:
        if self.ws is None:
            await self.connect()

    async def drain(self, deadline: float) -> None:
        """Stay connected and retry until every send is acknowledged (or ``deadline``)."""
        while self.pending and time.monotonic() < deadline:
            await self.stay_connected()
            await self.resend_due()
            await asyncio.sleep(0.1)

    async def catch_up(self, heads: dict[str, int], deadline: float) -> None:
        """Stay connected until every followed room has reached its final head (or ``deadline``)."""
        while time.monotonic() < deadline:
            await self.stay_connected()
            behind = [room for room in self.wanted if self.known.get(room, -1) < heads[room]]
            if self.ws is not None and not behind and all(s.head is not None for s in self.open.values()):
                return
            await asyncio.sleep(0.1)

    async def finish(self) -> None:
        """Close the connection; the stretches still open must have reached their rooms' heads."""
        for stretch in self.open.values():
            stretch.final = not stretch.closing
        self.open = {}
        if self.ws is not None:
            ws, self.ws = self.ws, None
            with contextlib.suppress(Exception):
                await ws.close()


# ---------------------------------------------------------------------------------------------
# The check


@dataclass
class Verdict:
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    wrong: int = 0
    unverified_starts: int = 0
    stretches: int = 0
    acked_missing: int = 0
    stored_twice: int = 0
    unacked_at_end: int = 0
    db_seq_gaps: int = 0
    stored: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(text)


def check_stretch(client: Client, stretch: Stretch, ids: dict[int, int], final_head: int, verdict: Verdict) -> None:
    """Count what ``stretch`` lost, doubled, reordered or got wrong."""
    verdict.stretches += 1
    since = stretch.since
    if since is None:
        first = (stretch.head or 0) + 1
    elif stretch.truncated and stretch.head is not None:
        first = stretch.head - REPLAY_LIMIT + 1
    else:
        first = since + 1
    if stretch.head is None and since is not None and stretch.seqs and stretch.seqs[0] > since + 1:
        # The connection ended during the replay, before ``subscribed`` said whether it was truncated.
        verdict.unverified_starts += 1
        first = stretch.seqs[0]
    seen: set[int] = set()
    highest = 0
    where = f"client {client.index} room {stretch.room} since {since}"
    for seq, message_id in zip(stretch.seqs, stretch.ids, strict=True):
        if seq in seen or seq < first:  # received before, or before where the stretch starts
            verdict.duplicated += 1
            verdict.note(f"{where}: seq {seq} again")
            continue
        if seq < highest:
            verdict.out_of_order += 1
            verdict.note(f"{where}: seq {seq} after {highest}")
        if ids.get(seq) != message_id:
            verdict.wrong += 1
            verdict.note(f"{where}: seq {seq} has id {message_id}, the database {ids.get(seq)}")
        seen.add(seq)
        highest = max(highest, seq)
    last = final_head if stretch.final else highest
    missing = [seq for seq in range(first, last + 1) if seq not in seen]
    if missing:
        verdict.lost += len(missing)
        verdict.note(f"{where}: lost {len(missing)} (first {missing[0]}, head {stretch.head})")


def check(clients: list[Client], rows: dict[str, list[list[Any]]], heads: dict[str, int]) -> Verdict:
    verdict = Verdict()
    ids = {room: {seq: message_id for seq, message_id, _, _ in room_rows} for room, room_rows in rows.items()}
    for room, room_rows in rows.items():
        verdict.stored += len(room_rows)
        seqs = [row[0] for row in room_rows]
        if seqs != list(range(1, len(seqs) + 1)) or heads[room] != len(seqs):
            verdict.db_seq_gaps += 1
            verdict.note(f"room {room}: stored seqs are not 1..{len(seqs)} = 1..head {heads[room]}")
        senders = Counter((author, client_id) for _, _, client_id, author in room_rows)
        verdict.stored_twice += sum(count - 1 for count in senders.values() if count > 1)
    by_room_seq = {(room, row[0]): row for room, room_rows in rows.items() for row in room_rows}
    for client in clients:
        verdict.unacked_at_end += len(client.pending)
        for client_id, (room, seq, message_id) in client.acked.items():
            row = by_room_seq.get((room, seq))
            if row is None or row[1] != message_id or row[2] != client_id or row[3] != client.user_id:
                verdict.acked_missing += 1
                verdict.note(f"client {client.index}: acked {client_id} as {room}#{seq} but the database has {row}")
        for stretch in client.stretches:
            check_stretch(client, stretch, ids[stretch.room], heads[stretch.room], verdict)
    return verdict


# ---------------------------------------------------------------------------------------------
# The server


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int, key: str = "VmRSS") -> int:
    """A value from /proc/<pid>/status, in KiB (VmRSS: now; VmHWM: the peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0


class Server:
    """The Parley process under test, which can be killed and restarted on its port and database."""

    def __init__(self, env: dict[str, str], workdir: Path, kind: str) -> None:
        self.env = env
        self.workdir = workdir
        self.kind = kind
        self.restarts = 0
        self.process = ServerProcess(env=env, log=workdir / "server-0.log", kind=kind).start()

    @property
    def pid(self) -> int:
        assert self.process.proc is not None
        return self.process.proc.pid

    async def kill_and_restart(self) -> None:
        self.process.kill()
        self.restarts += 1
        log = self.workdir / f"server-{self.restarts}.log"
        again = ServerProcess(env=self.env, log=log, kind=self.kind, port=self.process.port)
        self.process = await asyncio.to_thread(again.start)

    def stop(self) -> None:
        self.process.stop()

    def logged_tracebacks(self) -> int:
        return sum(path.read_text(errors="replace").count("Traceback") for path in self.workdir.glob("server-*.log"))


def seed(env: dict[str, str], rooms: list[str], users: list[str], workdir: Path) -> list[tuple[int, str]]:
    out = workdir / "tokens.json"
    spec = {"rooms": rooms, "users": users, "out": str(out)}
    manage({**env, "PARLEY_SOAK_SEED": json.dumps(spec)}, "shell", "-c", SEED)
    return [(int(user_id), str(token)) for user_id, token in json.loads(out.read_text())]


def dump(env: dict[str, str], rooms: list[str], workdir: Path) -> dict[str, list[list[Any]]]:
    out = workdir / "messages.json"
    manage({**env, "PARLEY_SOAK_DUMP": json.dumps({"rooms": rooms, "out": str(out)})}, "shell", "-c", DUMP)
    rows: dict[str, list[list[Any]]] = json.loads(out.read_text())
    return rows


async def room_heads(url: str, token: str, rooms: list[str]) -> dict[str, int]:
    """Each room's latest seq, as the server tells a fresh subscriber."""
    heads: dict[str, int] = {}
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10) as ws:
        for room in rooms:
            await ws.send(json.dumps({"type": "subscribe", "room": room}))
            while (frame := json.loads(await asyncio.wait_for(ws.recv(), 10)))["type"] != "subscribed":
                pass
            heads[room] = frame["head"]
    return heads


# ---------------------------------------------------------------------------------------------
# The run


async def killer(server: Server, every: float, deadline: float) -> None:
    while time.monotonic() + every < deadline:
        await asyncio.sleep(every)
        await server.kill_and_restart()


async def soak(
    args: argparse.Namespace, server: Server, tokens: list[tuple[int, str]], rooms: list[str]
) -> dict[str, Any]:
    stats = Stats()
    clients = [Client(i, user_id, token, rooms, args, stats) for i, (user_id, token) in enumerate(tokens[:-1])]
    started = time.monotonic()
    deadline = started + args.minutes * 60
    rss_start = rss_kib(server.pid)
    kill = asyncio.create_task(killer(server, args.kill_every, deadline)) if args.kill_every else None
    rss_samples: list[tuple[float, int]] = []
    sampler = asyncio.create_task(sample_rss(server, started, deadline, rss_samples))
    await asyncio.gather(*(client.chaos(deadline) for client in clients))
    if kill is not None:
        await kill
    await sampler
    after_warmup = next((rss for at, rss in rss_samples if at >= args.warmup * 60), rss_samples[-1][1])
    chaos_seconds = time.monotonic() - started
    await asyncio.gather(*(client.drain(time.monotonic() + args.settle) for client in clients))
    heads = await room_heads(args.url, tokens[-1][1], rooms)
    await asyncio.gather(*(client.catch_up(heads, time.monotonic() + args.settle) for client in clients))
    rss_end, rss_peak, server_cpu = rss_kib(server.pid), rss_kib(server.pid, "VmHWM"), cpu_seconds(server.pid)
    client_cpu = time.process_time()
    await asyncio.gather(*(client.finish() for client in clients))
    verdict = check(clients, dump(server.env, rooms, args.workdir), heads)
    ack = sorted(stats.ack_ms)
    return {
        "clients": len(clients),
        "rooms": len(rooms),
        "minutes": args.minutes,
        "chaos_s": round(chaos_seconds, 1),
        "total_s": round(time.monotonic() - started, 1),
        "database": "postgresql" if args.database_url else "sqlite",
        "server": args.server,
        "server_restarts": server.restarts,
        "ok": ok(verdict),
        "lost": verdict.lost,
        "duplicated": verdict.duplicated,
        "out_of_order": verdict.out_of_order,
        "wrong": verdict.wrong,
        "stray": stats.counts["stray"],
        "acked_missing": verdict.acked_missing,
        "stored_twice": verdict.stored_twice,
        "unacked_at_end": verdict.unacked_at_end,
        "db_seq_gaps": verdict.db_seq_gaps,
        "ack_mismatch": stats.counts["ack_mismatch"],
        "unverified_starts": verdict.unverified_starts,
        "stored": verdict.stored,
        "sends": stats.counts["sends"],
        "acks": stats.counts["acks"],
        "send_retries": stats.counts["send_retries"],
        "deliveries": stats.counts["deliveries"],
        "stretches": verdict.stretches,
        "subscribes": stats.counts["subscribes"],
        "unsubscribes": stats.counts["unsubscribes"],
        "truncated": stats.counts["truncated"],
        "connections": stats.counts["connections"],
        "drops_clean": stats.counts["drops_clean"],
        "drops_torn": stats.counts["drops_torn"],
        "connect_failures": stats.counts["connect_failures"],
        "errors": dict(stats.errors),
        "close_codes": dict(stats.close_codes),
        "ack_p50_ms": round(ack[len(ack) // 2], 1) if ack else None,
        "ack_p99_ms": round(ack[int(len(ack) * 0.99)], 1) if ack else None,
        "ack_mean_ms": round(statistics.fmean(ack), 1) if ack else None,
        "server_rss_start_mib": round(rss_start / 1024, 1),
        "server_rss_end_mib": round(rss_end / 1024, 1),
        "server_rss_peak_mib": round(rss_peak / 1024, 1),
        "warmup_minutes": args.warmup,
        "server_rss_after_warmup_mib": round(after_warmup / 1024, 1),
        "server_rss_growth_after_warmup_percent": round(100 * (rss_samples[-1][1] - after_warmup) / after_warmup, 1),
        "server_rss_timeline_mib": [(round(at / 60, 1), round(rss / 1024, 1)) for at, rss in rss_samples],
        "server_cpu_s": round(server_cpu, 1),
        "client_cpu_s": round(client_cpu, 1),
        "server_tracebacks": server.logged_tracebacks(),
        "examples": verdict.examples,
    }


async def sample_rss(server: Server, started: float, deadline: float, samples: list[tuple[float, int]]) -> None:
    """The server's RSS every 30 s of the churn (a restarted server starts a new curve; don't mix
    --kill-every with a memory soak)."""
    while True:
        samples.append((time.monotonic() - started, rss_kib(server.pid)))
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(min(30.0, max(0.0, deadline - time.monotonic())))


def ok(verdict: Verdict) -> bool:
    return not (
        verdict.lost
        or verdict.duplicated
        or verdict.out_of_order
        or verdict.wrong
        or verdict.acked_missing
        or verdict.stored_twice
        or verdict.unacked_at_end
        or verdict.db_seq_gaps
    )


def summary(result: dict[str, Any]) -> str:
    verdict = "PASS" if result["ok"] and not result["stray"] and not result["ack_mismatch"] else "FAIL"
    restarts = (
        f", the server killed and restarted {result['server_restarts']} times" if result["server_restarts"] else ""
    )
    return (
        f"{verdict}: {result['clients']} clients in {result['rooms']} rooms for {result['minutes']} min "
        f"({result['server']}, {result['database']}{restarts}) opened {result['connections']:,} connections "
        f"({result['drops_clean']:,} closed and {result['drops_torn']:,} torn on purpose), "
        f"made {result['subscribes']:,} subscribes and {result['unsubscribes']:,} unsubscribes, and sent "
        f"{result['sends']:,} messages ({result['send_retries']:,} retries; ack p50 {result['ack_p50_ms']} ms, "
        f"p99 {result['ack_p99_ms']} ms); the server stored {result['stored']:,} and made "
        f"{result['deliveries']:,} deliveries over {result['stretches']:,} subscription stretches. Against the "
        f"database: {result['lost']} lost, {result['duplicated']} duplicated, {result['out_of_order']} out of "
        f"order, {result['wrong']} wrong, {result['stray']} stray, {result['acked_missing']} acknowledged sends "
        f"missing, {result['stored_twice']} stored twice, {result['unacked_at_end']} never acknowledged. "
        f"Server RSS {result['server_rss_start_mib']} MiB at the start, {result['server_rss_end_mib']} MiB at the "
        f"end (peak {result['server_rss_peak_mib']} MiB); after {result['warmup_minutes']} min of warm-up "
        f"{result['server_rss_after_warmup_mib']} MiB, growing {result['server_rss_growth_after_warmup_percent']} % "
        f"to the end of the churn; {result['server_cpu_s']} s of CPU (the clients "
        f"{result['client_cpu_s']} s); {result['server_tracebacks']} tracebacks in its log."
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--subscriptions", type=int, default=3, help="rooms each client follows, about")
    parser.add_argument("--send-every", type=float, default=30, help="mean seconds between a client's sends")
    parser.add_argument("--churn-every", type=float, default=15, help="mean seconds between (un)subscribes")
    parser.add_argument("--connection-life", type=float, default=30, help="mean seconds before a random drop")
    parser.add_argument("--offline", type=float, default=3, help="most seconds a client stays away after a drop")
    parser.add_argument("--kill-every", type=float, default=0, help="SIGKILL and restart the server this often (s)")
    parser.add_argument("--ramp", type=float, default=10, help="spread the clients' first connections (s)")
    parser.add_argument("--settle", type=float, default=60, help="most seconds to wait for acks, then catch-up")
    parser.add_argument(
        "--warmup", type=float, default=5, help="minutes of churn before RSS growth is measured (memory soak)"
    )
    parser.add_argument("--database-url", help="a PostgreSQL database to migrate and use (default: fresh SQLite)")
    parser.add_argument("--channel-layer-url", default="memory://")
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, database)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="parley-soak-"))
    args.workdir = workdir
    env = server_env(
        DATABASE_URL=args.database_url or f"sqlite:///{workdir / 'parley.sqlite3'}",
        CHANNEL_LAYER_URL=args.channel_layer_url,
        PARLEY_REPLAY_LIMIT=str(REPLAY_LIMIT),
        PARLEY_LOG_LEVEL="WARNING",
        # Hundreds of clients reconnect from one address all the time: the soak checks delivery,
        # not the rate limits (tests/servers.py).
        **NO_RATE_LIMITS,
    )
    run = uuid.uuid4().hex[:6]
    rooms = [f"soak-{run}-{i}" for i in range(args.rooms)]
    manage(env, "migrate", "--noinput", "-v0")
    tokens = seed(env, rooms, [f"soak-{i}" for i in range(args.clients)] + ["soak-observer"], workdir)
    server = Server(env, workdir, args.server)
    args.url = f"{server.process.ws_url}/ws/"
    try:
        runner: Any = asyncio.run
        with contextlib.suppress(ImportError):
            import uvloop

            runner = uvloop.run
        result = runner(soak(args, server, tokens, rooms))
    finally:
        server.stop()
    result["workdir"] = str(workdir) if args.keep else None
    print(summary(result))
    print(json.dumps(result))
    if not args.keep:
        for path in sorted(workdir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        workdir.rmdir()
    passed = result["ok"] and not result["stray"] and not result["ack_mismatch"]
    return 0 if passed else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
