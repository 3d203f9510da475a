"""A WebSocket load generator for one room: N receivers, one sender, latency and throughput.

It speaks both the article's protocol (``{"message": s}`` on ``/ws/chat/<room>/``: the tutorial app
and the bare limit server) and Parley's protocol v1 (``/ws/``: subscribe, send, message frames), so
the same measurement runs against all three. Every body carries the send time, and each receiver
records its delivery latency. With ``--compression deflate`` every socket offers
``permessage-deflate`` as browsers do (the server decides whether to accept it; each summary says
whether it did); by default no socket offers it. ``--mode ingest`` is the ingest scenario: one
sender in each of ``--rooms`` rooms, each sending its next message when the last is acknowledged.

    python bench/loadgen.py --url ws://127.0.0.1:8000 --protocol v1 --room bench \
        --receivers 1000 --messages 200 --rate 20
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
import time
import traceback
import uuid
from dataclasses import asdict, dataclass, field

from websockets.asyncio.client import ClientConnection, connect

MARK = "bench:"


def deflate_negotiated(ws: ClientConnection) -> int:
    """1 if the server accepted ``permessage-deflate`` on this socket, else 0."""
    assert ws.response is not None
    return int("permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", ""))


@dataclass
class Result:
    """What one run measured."""

    receivers: int
    messages: int
    offered_rate: float | None
    expected: int
    delivered: int
    elapsed: float
    latencies_ms: list[float] = field(repr=False)
    deflate_negotiated: int = 0

    @property
    def loss(self) -> int:
        return self.expected - self.delivered

    @property
    def deliveries_per_second(self) -> float:
        return self.delivered / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict[str, float | int | None]:
        data = asdict(self)
        del data["latencies_ms"]
        return {
            **data,
            "loss": self.loss,
            "deliveries_per_s": round(self.deliveries_per_second),
            "p50_ms": round(self.percentile(0.50), 1),
            "p99_ms": round(self.percentile(0.99), 1),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else None,
        }


class Protocol:
    """How to join a room and send or recognise a message, for one wire protocol."""

    def __init__(self, name: str, base_url: str, room: str, headers: dict[str, str], compression: str | None) -> None:
        self.name = name
        self.room = room
        self.headers = headers
        self.compression = compression
        self.url = f"{base_url}/ws/chat/{room}/" if name == "tutorial" else f"{base_url}/ws/"

    async def join(self, ws: ClientConnection) -> None:
        if self.name == "v1":
            await ws.send(json.dumps({"type": "subscribe", "room": self.room}))
            while json.loads(await ws.recv())["type"] != "subscribed":
                pass

    def frame(self, body: str) -> str:
        if self.name == "tutorial":
            return json.dumps({"message": body})
        return json.dumps({"type": "send", "room": self.room, "body": body, "client_id": uuid.uuid4().hex})

    @staticmethod
    def body_of(raw: str | bytes) -> str | None:
        data = json.loads(raw)
        if "message" in data and isinstance(data["message"], str):
            return str(data["message"])
        if data.get("type") == "message":
            return str(data["body"])
        return None


def connection(proto: Protocol) -> connect:
    """A client socket as the load opens it: offering compression only when asked to."""
    return connect(
        proto.url,
        additional_headers=proto.headers,
        compression=proto.compression,
        max_size=None,
        ping_interval=None,
        open_timeout=60,
        close_timeout=1,
    )


async def receive(
    proto: Protocol,
    expected: int,
    joined: asyncio.Event,
    joined_count: list[int],
    total: int,
    latencies: list[float],
    delivered: list[int],
    finished: asyncio.Event,
) -> None:
    async with connection(proto) as ws:
        await proto.join(ws)
        joined_count[0] += 1
        if joined_count[0] == total:
            joined.set()
        got = 0
        try:
            while got < expected:
                body = proto.body_of(await ws.recv())
                if body is None or not body.startswith(MARK):
                    continue
                sent_ns = int(body.split(":")[2])
                latencies.append((time.time_ns() - sent_ns) / 1e6)
                got += 1
                delivered[0] += 1
        finally:
            if delivered[0] >= expected * total:
                finished.set()
            await finished.wait()


async def run(
    base_url: str,
    protocol: str,
    room: str,
    receivers: int,
    messages: int,
    rate: float | None,
    headers: dict[str, str],
    settle: float,
    compression: str | None,
) -> Result:
    """Connect ``receivers`` sockets, send ``messages`` (at ``rate`` per second, or flat out), and wait
    up to ``settle`` seconds after the last send for every delivery."""
    # Several comma-separated URLs spread the receivers over several server processes.
    protos = [Protocol(protocol, url, room, headers, compression) for url in base_url.split(",")]
    proto = protos[0]
    joined, finished = asyncio.Event(), asyncio.Event()
    joined_count, delivered, latencies = [0], [0], []
    tasks = []
    for i in range(receivers):
        tasks.append(
            asyncio.create_task(
                receive(
                    protos[i % len(protos)], messages, joined, joined_count, receivers, latencies, delivered, finished
                )
            )
        )
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # do not look like a SYN flood
    await asyncio.wait_for(joined.wait(), timeout=120)
    async with connection(proto) as sender:
        await proto.join(sender)
        start = time.monotonic()
        for i in range(messages):
            if rate:
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            await sender.send(proto.frame(f"{MARK}{i}:{time.time_ns()}"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), timeout=settle + (messages / rate if rate else 0))
        elapsed = time.monotonic() - start
        negotiated = deflate_negotiated(sender)
    finished.set()
    for task in tasks:
        task.cancel()
    # Bounded: a receiver's close can wait on a server too busy to answer (the tutorial app, with a
    # backlog), and the process exits right after the summary anyway.
    await asyncio.wait(tasks, timeout=10)
    return Result(receivers, messages, rate, receivers * messages, delivered[0], elapsed, latencies, negotiated)


class RoomMember:
    """One socket in the many-rooms scenario: subscribed to its room, sending now and then."""

    def __init__(self, ws: ClientConnection, room: str) -> None:
        self.ws = ws
        self.room = room
        self.sent_at: dict[str, int] = {}

    async def send(self) -> None:
        client_id = uuid.uuid4().hex
        now = time.time_ns()
        self.sent_at[client_id] = now
        body = f"{MARK}{client_id}:{now}"
        await self.ws.send(json.dumps({"type": "send", "room": self.room, "body": body, "client_id": client_id}))

    async def read(self, acks: list[float], deliveries: list[float], counts: list[int]) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            now = time.time_ns()
            if frame["type"] == "ack":
                acks.append((now - self.sent_at.pop(frame["client_id"])) / 1e6)
            elif frame["type"] == "message" and frame["body"].startswith(MARK):
                deliveries.append((now - int(frame["body"].split(":")[2])) / 1e6)
                counts[0] += 1


async def run_rooms(
    base_url: str,
    rooms: list[str],
    per_room: int,
    rate: float,
    seconds: float,
    headers: dict[str, str],
    compression: str | None,
) -> dict[str, float | int]:
    """``len(rooms) * per_room`` sockets, each subscribed to its room; random members send,
    ``rate`` messages a second in all, for ``seconds``. Ack and delivery latency, and loss."""
    proto = Protocol("v1", base_url, "", headers, compression)
    members: list[RoomMember] = []
    for i, room in enumerate(room for room in rooms for _ in range(per_room)):
        ws = await connection(proto).__aenter__()
        await ws.send(json.dumps({"type": "subscribe", "room": room}))
        while json.loads(await ws.recv())["type"] != "subscribed":
            pass
        members.append(RoomMember(ws, room))
        if i % 50 == 49:
            await asyncio.sleep(0.02)
    acks: list[float] = []
    deliveries: list[float] = []
    counts = [0]
    readers = [asyncio.create_task(member.read(acks, deliveries, counts)) for member in members]
    # Let every reader start before the first send: starting 2,000 tasks takes the generator tens
    # of milliseconds, which the first acks would otherwise wait for here, not in the server.
    await asyncio.sleep(1)
    sent = int(rate * seconds)
    start = time.monotonic()
    for i in range(sent):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        await random.choice(members).send()
    deadline = time.monotonic() + 30
    while (counts[0] < sent * per_room or len(acks) < sent) and time.monotonic() < deadline:  # noqa: ASYNC110 (a bounded poll)
        await asyncio.sleep(0.1)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(member.ws.close() for member in members), return_exceptions=True)
    pick = lambda values, q: round(sorted(values)[min(len(values) - 1, int(q * len(values)))], 1) if values else None  # noqa: E731
    return {
        "sockets": len(members),
        "rooms": len(rooms),
        "sent": sent,
        "acked": len(acks),
        "expected": sent * per_room,
        "delivered": counts[0],
        "loss": sent * per_room - counts[0],
        "ack_p50_ms": pick(acks, 0.5),
        "ack_p99_ms": pick(acks, 0.99),
        "delivery_p50_ms": pick(deliveries, 0.5),
        "delivery_p99_ms": pick(deliveries, 0.99),
    }


class Sender:
    """One socket in the ingest scenario: alone in its room, sending its next message as soon as
    the last one is acknowledged."""

    def __init__(self, ws: ClientConnection, room: str) -> None:
        self.ws = ws
        self.room = room

    async def send_until(self, deadline: float, acks: list[float], refusals: list[str]) -> None:
        """Send, wait for the answer, repeat until ``deadline`` (``time.monotonic``)."""
        while time.monotonic() < deadline:
            client_id = uuid.uuid4().hex
            sent = time.monotonic_ns()
            frame = {"type": "send", "room": self.room, "body": f"{MARK}{client_id}", "client_id": client_id}
            await self.ws.send(json.dumps(frame))
            while True:
                answer = json.loads(await self.ws.recv())
                if answer["type"] == "ack" and answer["client_id"] == client_id:
                    acks.append((time.monotonic_ns() - sent) / 1e6)
                    break
                if answer["type"] == "error":
                    refusals.append(answer.get("code", "?"))
                    break


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_ingest(
    base_url: str,
    rooms: list[str],
    seconds: float,
    server_pid: int,
    headers: dict[str, str],
    compression: str | None,
) -> dict[str, float | int | None]:
    """One sender per room, each subscribed to its room and sending its next message when the
    last is acknowledged, for ``seconds``: messages stored and acknowledged per second, the ack
    latency, and (with ``server_pid``) the server's CPU time per message."""
    proto = Protocol("v1", base_url, "", headers, compression)
    senders = []
    for room in rooms:
        ws = await connection(proto).__aenter__()
        await ws.send(json.dumps({"type": "subscribe", "room": room}))
        while json.loads(await ws.recv())["type"] != "subscribed":
            pass
        senders.append(Sender(ws, room))
    acks: list[float] = []
    refusals: list[str] = []
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    start = time.monotonic()
    await asyncio.gather(*(sender.send_until(start + seconds, acks, refusals) for sender in senders))
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(server_pid) - cpu_before if server_pid else 0.0
    await asyncio.gather(*(sender.ws.close() for sender in senders), return_exceptions=True)
    ordered = sorted(acks)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else None  # noqa: E731
    return {
        "senders": len(senders),
        "seconds": round(elapsed, 2),
        "acked": len(acks),
        "refused": len(refusals),
        "msgs_per_s": round(len(acks) / elapsed, 1),
        "ack_p50_ms": pick(0.5),
        "ack_p99_ms": pick(0.99),
        "server_cpu_ms_per_msg": round(1000 * cpu / len(acks), 3) if acks and server_pid else None,
        "server_cores": round(cpu / elapsed, 2),
    }


def rss_kb(pid: int) -> int:
    """A process's resident set size, in KiB."""
    for line in open(f"/proc/{pid}/status"):  # noqa: SIM115 (a tiny procfs read)
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def run_idle(
    base_url: str,
    protocol: str,
    room: str,
    sockets: int,
    server_pid: int,
    headers: dict[str, str],
    compression: str | None,
) -> dict[str, float]:
    """Open ``sockets`` sockets in the room (authenticated and subscribed on Parley); the server's
    RSS per socket; one broadcast to all."""
    proto = Protocol(protocol, base_url, room, headers, compression)
    before = rss_kb(server_pid)
    opened: list[ClientConnection] = []
    semaphore = asyncio.Semaphore(100)

    async def open_one() -> None:
        async with semaphore:
            ws = await connection(proto).__aenter__()
            await proto.join(ws)
            opened.append(ws)

    await asyncio.gather(*(open_one() for _ in range(sockets)))
    await asyncio.sleep(2)  # let the server settle before reading its memory
    after = rss_kb(server_pid)
    received = [0]

    async def wait_for_broadcast(ws: ClientConnection) -> None:
        while True:
            body = proto.body_of(await ws.recv())
            if body is not None and body.startswith(MARK):
                received[0] += 1
                return

    waiters = [asyncio.create_task(wait_for_broadcast(ws)) for ws in opened]
    start = time.monotonic()
    await opened[0].send(proto.frame(f"{MARK}0:{time.time_ns()}"))
    await asyncio.wait(waiters, timeout=60)
    elapsed = time.monotonic() - start
    # A server may set a socket's compressor up only when it first sends on it: memory once
    # every socket has had a message shows what an idle socket costs on a site that is used.
    await asyncio.sleep(2)
    after_broadcast = rss_kb(server_pid)
    await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
    return {
        "sockets": len(opened),
        "rss_before_kb": before,
        "rss_after_kb": after,
        "rss_per_socket_kb": round((after - before) / max(1, len(opened)), 1),
        "broadcast_received": received[0],
        "broadcast_seconds": round(elapsed, 2),
        "rss_after_broadcast_kb": after_broadcast,
        "rss_per_socket_after_broadcast_kb": round((after_broadcast - before) / max(1, len(opened)), 1),
        "deflate_negotiated": deflate_negotiated(opened[0]),
    }


async def run_connect(
    base_url: str, room: str, count: int, server_pid: int, headers: dict[str, str], compression: str | None
) -> dict[str, float | None]:
    """Complete ``count`` authenticated handshakes, 50 at a time: handshakes per second, and the CPU
    time the server (with ``server_pid``) and this load generator spent on them, per handshake and
    as cores (which of the two is near a core shows what bounds the rate)."""
    proto = Protocol("v1", base_url, room, headers, compression)
    semaphore = asyncio.Semaphore(50)

    async def handshake() -> None:
        async with semaphore, connection(proto) as ws:
            await ws.send('{"type":"ping"}')
            await ws.recv()

    server_before = cpu_seconds(server_pid) if server_pid else 0.0
    own_before = time.process_time()
    start = time.monotonic()
    await asyncio.gather(*(handshake() for _ in range(count)))
    elapsed = time.monotonic() - start
    server = cpu_seconds(server_pid) - server_before if server_pid else None
    own = time.process_time() - own_before
    return {
        "handshakes": count,
        "seconds": round(elapsed, 2),
        "handshakes_per_s": round(count / elapsed),
        "server_cpu_ms_per_handshake": round(1000 * server / count, 3) if server is not None else None,
        "server_cores": round(server / elapsed, 2) if server is not None else None,
        "loadgen_cpu_ms_per_handshake": round(1000 * own / count, 3),
        "loadgen_cores": round(own / elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="ws://host:port of the server (comma-separated: several)")
    parser.add_argument("--protocol", choices=["v1", "tutorial"], default="v1")
    parser.add_argument("--room", default="bench")
    parser.add_argument("--receivers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0, help="messages per second; 0 sends flat out")
    parser.add_argument("--token", default="", help="bearer token for Parley")
    parser.add_argument("--settle", type=float, default=30.0)
    parser.add_argument("--rooms", type=int, default=0, help="many-rooms mode: this many rooms bench-0…")
    parser.add_argument("--seconds", type=float, default=20.0, help="many-rooms mode: how long to send")
    parser.add_argument("--mode", choices=["room", "idle", "connect", "ingest"], default="room")
    parser.add_argument(
        "--server-pid", type=int, default=0, help="idle and ingest modes: the server whose RSS or CPU to read"
    )
    parser.add_argument(
        "--compression", choices=["none", "deflate"], default="none", help="deflate: offer permessage-deflate"
    )
    args = parser.parse_args()
    compression = "deflate" if args.compression == "deflate" else None
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(measure_and_report(args, headers, compression))


async def measure_and_report(args: argparse.Namespace, headers: dict[str, str], compression: str | None) -> None:
    """Run the mode ``args`` ask for, print its summary as one JSON line, and exit at once.

    The exit does not wait for the event loop to cancel what is left: cancelling a thousand
    sockets' tasks once held a run's exit for minutes (seen against the tutorial app on a busy
    machine), and the kernel closes every socket of an exiting process anyway."""
    try:
        summary = await measure(args, headers, compression)
    except BaseException:
        # Before the event loop's teardown, which is what hangs: a failed run exits at once too.
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.write(json.dumps(summary) + "\n")
    sys.stdout.flush()
    os._exit(0)


async def measure(
    args: argparse.Namespace, headers: dict[str, str], compression: str | None
) -> dict[str, float | int | None]:
    """Run the mode ``args`` ask for; its summary."""
    summary: dict[str, float | int | None]
    if args.mode == "idle":
        summary = await run_idle(
            args.url, args.protocol, args.room, args.receivers, args.server_pid, headers, compression
        )
    elif args.mode == "ingest":
        rooms = [f"{args.room}-{i}" for i in range(args.rooms)]
        summary = await run_ingest(args.url, rooms, args.seconds, args.server_pid, headers, compression)
    elif args.mode == "connect":
        summary = await run_connect(args.url, args.room, args.receivers, args.server_pid, headers, compression)
    elif args.rooms:
        rooms = [f"{args.room}-{i}" for i in range(args.rooms)]
        per_room = args.receivers // args.rooms
        summary = await run_rooms(args.url, rooms, per_room, args.rate, args.seconds, headers, compression)
    else:
        result = await run(
            args.url,
            args.protocol,
            args.room,
            args.receivers,
            args.messages,
            args.rate or None,
            headers,
            args.settle,
            compression,
        )
        summary = result.summary()
    return summary


if __name__ == "__main__":
    main()
