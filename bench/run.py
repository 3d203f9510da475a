"""Parley's benchmark: start what is measured, load it, print its figures beside its peers'.

Every figure for Parley is measured in the same run as the same load against the two references
in ``../shared/tools/`` (run from there, never copied): the bare ``websockets`` broadcast server
(the practical ceiling) and the article's tutorial app (the baseline); and against the servers a
team would pick instead, in ``bench/peers/`` (installed from the npm registry on first use): a
bare Node ``ws`` broadcast server and a Socket.IO 4 server (its Redis adapter for two processes).
Each load runs twice, once with clients that offer no compression and once offering
``permessage-deflate`` as browsers do. Absolute numbers are noise on a shared machine; the ratios
are what to quote. Each figure is the median of ``--repeat`` runs.

    python -m bench.run                 # all scenarios, 3 repetitions
    python -m bench.run --quick         # one repetition, smaller loads
    python -m bench.run --scenarios layers   # the fan-out room on each channel layer
    python -m bench.run --compression none   # only clients that offer no compression
    python -m bench.run --scenarios ingest   # messages stored and acknowledged per second
    python -m bench.run --scenarios ingest --profile var/profiles   # ... with a py-spy profile

One module, longer than most, on purpose: it is the table's recipe, each scenario a function
that starts its servers, runs its load (``bench.loadgen``) and returns its row, read top to bottom
in the order the table prints.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers import (
    NO_RATE_LIMITS,
    REPO,
    SHARED_TOOLS,
    ServerProcess,
    free_port,
    manage,
    server_env,
    wait_until_listening,
)

LIMIT_SERVER = SHARED_TOOLS / "ws_limit_server.py"
TUTORIAL_APP = SHARED_TOOLS / "tutorial-chat"
PEERS = REPO / "bench" / "peers"
# The benchmark's own Redis database index, flushed before and after (``--redis-db``: another
# index, so that two runs at once, or a run beside the tests, do not flush each other's).
REDIS_DB = "9"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
# The benchmark's own names in the layer: RabbitMQ's default vhost is shared with the test runs.
LAYER_PREFIX = "parley-bench"


@dataclass
class Target:
    """A server under load: its WebSocket base URL and the protocol it speaks."""

    name: str
    url: str
    protocol: str
    token: str = ""
    pid: int = 0
    database_url: str = ""


# The client modes each load runs in: no compression offered, and permessage-deflate offered as
# browsers offer it (``permessage-deflate; client_max_window_bits``); the server decides.
COMPRESSION_LABELS = {"none": "uncompressed", "deflate": "deflate offered"}


def attempt(runs: list[dict[str, float]], target: Target, **load: Any) -> None:
    """Run ``loadgen(target, **load)`` and add its summary to ``runs``; a run that fails is
    reported and left out, so that one server's failure does not lose the others' figures."""
    try:
        runs.append(loadgen(target, **load))
    except RuntimeError as error:
        print(f"!! {error}", flush=True)


def loadgen(
    target: Target, *, receivers: int, messages: int, rate: float, compression: str = "none"
) -> dict[str, float]:
    """One room of ``receivers``, one sender: the load generator in its own process, so it has a core."""
    return loadgen_with(
        target, "--protocol", target.protocol, "--receivers", str(receivers), "--messages", str(messages),
        "--rate", str(rate), "--compression", compression,
    )  # fmt: skip


@contextmanager
def process(
    command: list[str], *, cwd: Path, env: dict[str, str], port: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a reference server until the block ends."""
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(port, proc, log)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def limit_server(workdir: Path) -> Iterator[Target | None]:
    if not LIMIT_SERVER.exists():
        print(f"!! the bare limit server is absent ({LIMIT_SERVER}): its column is empty")
        yield None
        return
    port = free_port()
    with process(
        [sys.executable, str(LIMIT_SERVER), str(port)],
        cwd=REPO,
        env=dict(os.environ),
        port=port,
        log=workdir / "limit.log",
    ) as proc:
        yield Target("limit server", f"ws://127.0.0.1:{port}", "tutorial", pid=proc.pid)


@contextmanager
def tutorial_app(workdir: Path, layer: str) -> Iterator[Target | None]:
    if not TUTORIAL_APP.exists():
        print(f"!! the tutorial app is absent ({TUTORIAL_APP}): its column is empty")
        yield None
        return
    port = free_port()
    env = {
        **os.environ,
        "SEED_LAYER": layer,
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "DJANGO_SETTINGS_MODULE": "myproject.settings",
    }
    command = [
        str(Path(sys.executable).parent / "uvicorn"),
        "myproject.asgi:application",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with process(command, cwd=TUTORIAL_APP, env=env, port=port, log=workdir / "tutorial.log"):
        yield Target("tutorial app", f"ws://127.0.0.1:{port}", "tutorial")


def install_peers() -> bool:
    """Install the Node peers' packages (``npm ci``, from package-lock.json) unless they are there."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("!! node and npm are not on PATH: the Node ws and Socket.IO columns are empty")
        return False
    installed = PEERS / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= (PEERS / "package-lock.json").stat().st_mtime:
        return True
    print("   installing the Node peers (npm ci in bench/peers)", flush=True)
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel", "error"], cwd=PEERS, capture_output=True, text=True
    )
    if result.returncode != 0:
        print(f"!! npm ci failed in {PEERS}: the Node ws and Socket.IO columns are empty\n{result.stderr[-2000:]}")
        return False
    return True


@contextmanager
def node_peer(
    workdir: Path, script: str, name: str, protocol: str, *, redis_url: str = "", count: int = 1
) -> Iterator[Target | None]:
    """``count`` processes of a Node peer in ``bench/peers`` (several share rooms through Redis).

    The peers accept permessage-deflate (``PEER_DEFLATE=1``; both ship with it off), so that a
    client offering it as a browser does gets it, as it does from Uvicorn; a client that offers
    nothing gets uncompressed frames from the same process."""
    if not install_peers():
        yield None
        return
    env = {**os.environ, "PEER_DEFLATE": "1"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    scheme = "http" if protocol == "socketio" else "ws"
    with contextlib.ExitStack() as stack:
        urls, pids = [], []
        for _ in range(count):
            port = free_port()
            log = workdir / f"{script}.log"
            proc = stack.enter_context(process(["node", script, str(port)], cwd=PEERS, env=env, port=port, log=log))
            urls.append(f"{scheme}://127.0.0.1:{port}")
            pids.append(proc.pid)
        yield Target(name, ",".join(urls), protocol, pid=pids[0])


def node_ws(workdir: Path) -> contextlib.AbstractContextManager[Target | None]:
    """The bare Node ``ws`` broadcast server (tutorial protocol)."""
    return node_peer(workdir, "ws-server.js", "Node ws", "tutorial")


def socketio(workdir: Path, *, count: int = 1) -> contextlib.AbstractContextManager[Target | None]:
    """Socket.IO 4, one process, or ``count`` of them over its Redis adapter."""
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}" if count > 1 else ""
    name = "Socket.IO" if count == 1 else f"Socket.IO x{count}"
    return node_peer(workdir, "socketio-server.js", name, "socketio", redis_url=redis_url, count=count)


@dataclass
class BenchServer(ServerProcess):
    """Parley's server as the README runs it (Uvicorn with ``--ws-per-message-deflate false``);
    ``deflate`` True leaves the flag out, so Uvicorn accepts permessage-deflate as it does by default."""

    deflate: bool = False

    def command(self) -> list[str]:
        """The server's command line."""
        command = super().command()
        if self.kind == "uvicorn" and self.deflate:
            at = command.index("--ws-per-message-deflate")
            del command[at : at + 2]
        return command


@contextmanager
def parley(
    workdir: Path,
    *,
    layer_url: str,
    database_url: str | None = None,
    kind: str = "uvicorn",
    rooms: int = 0,
    layer_prefix: str = "parley",
    deflate: bool = False,
) -> Iterator[Target]:
    """A Parley process on a fresh database with a room ``bench`` (and ``bench-0``… when asked)."""
    env = server_env(
        DATABASE_URL=database_url or f"sqlite:///{workdir / f'parley-{time.monotonic_ns()}.sqlite3'}",
        CHANNEL_LAYER_URL=layer_url,
        CHANNEL_LAYER_PREFIX=layer_prefix,
        PARLEY_LOG_LEVEL="WARNING",
        # One token and one address serve every socket of the load: the abuse limits would measure
        # themselves, not delivery.
        **NO_RATE_LIMITS,
    )
    manage(env, "migrate", "--noinput", "-v0")
    slugs = ["bench", *(f"bench-{i}" for i in range(rooms))]
    create = "from parley.rooms.services import room_get_or_create\nfor slug in %r: room_get_or_create(slug=slug)"
    manage(env, "shell", "-c", create % slugs)
    token = manage(env, "issuetoken", "bench", "--create").strip().splitlines()[-1]
    server = BenchServer(env=env, log=workdir / "parley.log", kind=kind, deflate=deflate).start()
    try:
        pid = server.proc.pid if server.proc else 0
        name = "Parley, deflate on" if deflate else "Parley"
        yield Target(name, server.ws_url, "v1", token, pid, env["DATABASE_URL"])
    finally:
        server.stop()


def flush_redis() -> None:
    """Empty the benchmark's Redis database."""
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], capture_output=True, check=False)


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


@dataclass
class Comparison:
    """The peers' columns: each measure, in each client mode, for every server that ran it."""

    cells: dict[tuple[str, str], dict[str, tuple[float, int]]] = field(default_factory=dict)

    def put(self, measure: str, compression: str, server: str, value: float, negotiated: int = 1) -> None:
        """Record ``server``'s median for ``measure`` with clients in mode ``compression``; with
        ``negotiated`` 0, clients offered deflate and the server declined it."""
        self.cells.setdefault((measure, compression), {})[server] = (value, negotiated)

    def lines(self) -> list[str]:
        """The table in Markdown: a column per server, then Parley's ratio to each peer."""
        servers = [name for name in COLUMNS if any(name in row for row in self.cells.values())]
        peers = [name for name in RATIO_TO if name in servers]
        header = ["measure", "clients", *servers, *(f"Parley ÷ {name}" for name in peers)]
        rows = []
        for (measure, compression), row in self.cells.items():
            cells = [measure, COMPRESSION_LABELS[compression]]
            for name in servers:
                value, negotiated = row.get(name, (None, 1))
                cells.append("" if value is None else f"{value:,.{MEASURES[measure]}f}{'' if negotiated else ' †'}")
            ours = row.get("Parley")
            for name in peers:
                theirs = row.get(name)
                cells.append(f"{ours[0] / theirs[0]:.2f}x" if ours and theirs and theirs[0] else "")
            rows.append(cells)
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        out += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
        return out


# The comparison's columns in order (the two-process rows put Parley x2 under Parley and
# Socket.IO x2 under Socket.IO), the peers Parley's ratios are taken to, and each measure's decimals.
COLUMNS = ["Parley", "Parley, deflate on", "limit server", "tutorial app", "Node ws", "Socket.IO"]
RATIO_TO = ["limit server", "Node ws", "Socket.IO"]
FLAT_OUT = "fan-out flat out, deliveries/s"
P50 = "fan-out at 20 msg/s, p50 ms"
P99 = "fan-out at 20 msg/s, p99 ms"
IDLE_KB = "idle sockets, KB RSS each"
IDLE_AFTER_KB = "idle sockets after one message each, KB RSS each"
IDLE_BROADCAST = "idle sockets, one broadcast to all, s"
TWO_P99 = "two processes over Redis, 20 msg/s, p99 ms"
MEASURES = {FLAT_OUT: 0, P50: 0, P99: 0, IDLE_KB: 1, IDLE_AFTER_KB: 1, IDLE_BROADCAST: 2, TWO_P99: 0}


def negotiated_in(runs: list[dict[str, float]], compression: str) -> int:
    """1 if every run's sockets got the compression they offered (or offered none)."""
    return int(compression == "none" or all(run.get("deflate_negotiated", 1) for run in runs))


def fanout(args: argparse.Namespace, workdir: Path, comparison: Comparison) -> list[list[str]]:
    """One room of ``--receivers`` sockets, one sender: at a fixed rate, and flat out, with each
    client mode, against Parley, the references and the peers."""
    rows: list[list[str]] = []
    receivers = args.receivers
    layer = f"redis://127.0.0.1:6379/{REDIS_DB}"
    with contextlib.ExitStack() as stack:
        started = [
            stack.enter_context(limit_server(workdir)),
            stack.enter_context(tutorial_app(workdir, "redis")),
            stack.enter_context(parley(workdir, layer_url=layer)),
            stack.enter_context(node_ws(workdir)),
            stack.enter_context(socketio(workdir)),
        ]
        if "deflate" in args.compression:
            # Parley with Uvicorn's default, permessage-deflate accepted: what compression would cost.
            started.append(
                stack.enter_context(parley(workdir, layer_url=layer, layer_prefix=LAYER_PREFIX, deflate=True))
            )
        targets = [target for target in started if target is not None]
        runs: dict[tuple[str, str, str], list[dict[str, float]]] = {}
        # Round by round, each target in turn: a drift in the machine's other load touches all of them.
        for _ in range(args.repeat):
            for target in targets:
                for compression in args.compression:
                    if target.name == "Parley, deflate on" and compression == "none":
                        continue  # the same server as Parley's for clients that offer nothing
                    fixed = runs.setdefault((target.name, compression, "fixed"), [])
                    attempt(
                        fixed,
                        target,
                        receivers=receivers,
                        messages=args.fixed_messages,
                        rate=20,
                        compression=compression,
                    )
                    # The tutorial app saturates near 3,000/s: keep its flat-out run short.
                    count = 10 if target.name == "tutorial app" else args.flat_messages
                    flat = runs.setdefault((target.name, compression, "flat"), [])
                    attempt(flat, target, receivers=receivers, messages=count, rate=0, compression=compression)
    for compression in args.compression:
        figures: dict[str, dict[str, float]] = {}
        for target in targets:
            fixed_runs = runs.get((target.name, compression, "fixed"), [])
            flat_runs = runs.get((target.name, compression, "flat"), [])
            if not fixed_runs or not flat_runs:
                continue
            negotiated = negotiated_in(fixed_runs + flat_runs, compression)
            figure = figures[target.name] = {
                "p50": median_of(fixed_runs, "p50_ms"),
                "p99": median_of(fixed_runs, "p99_ms"),
                "loss": max(run["loss"] for run in fixed_runs + flat_runs),
                "rate": median_of(flat_runs, "deliveries_per_s"),
            }
            comparison.put(FLAT_OUT, compression, target.name, figure["rate"], negotiated)
            comparison.put(P50, compression, target.name, figure["p50"], negotiated)
            comparison.put(P99, compression, target.name, figure["p99"], negotiated)
            print(f"   {target.name}, {COMPRESSION_LABELS[compression]}: {figure}", flush=True)
        rows += fanout_rows(receivers, compression, figures)
    return rows


def fanout_rows(receivers: int, compression: str, figures: dict[str, dict[str, float]]) -> list[list[str]]:
    """The fan-out figures of one client mode as rows of the long table."""
    rows = []
    clients = COMPRESSION_LABELS[compression]
    ceiling = figures.get("limit server", {}).get("rate")
    baseline = figures.get("tutorial app", {}).get("rate")
    for name, figure in figures.items():
        rows.append([
            f"fan-out, {receivers} receivers, 20 msg/s, {clients}", name,
            f"p50 {figure['p50']:.0f} ms, p99 {figure['p99']:.0f} ms, loss {figure['loss']:.0f}", "",
        ])  # fmt: skip
    for name, figure in figures.items():
        ratios = []
        if ceiling:
            ratios.append(f"{figure['rate'] / ceiling:.2f}x limit")
        if baseline:
            ratios.append(f"{figure['rate'] / baseline:.1f}x tutorial")
        rows.append(
            [
                f"fan-out, {receivers} receivers, flat out, {clients}",
                name,
                f"{figure['rate']:,.0f} deliveries/s",
                ", ".join(ratios),
            ]
        )
    return rows


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    import psycopg

    name = f"parley_bench_{os.getpid()}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def many_rooms(args: argparse.Namespace, workdir: Path) -> list[list[str]]:
    """Sockets in many rooms, every member sending now and then: ack and delivery latency."""
    sockets, rooms, rate = (400, 40, 40) if args.quick else (2000, 200, 200)
    rows = []
    for label, database in (("SQLite", None), ("PostgreSQL", "postgres")):
        with contextlib.ExitStack() as stack:
            database_url = stack.enter_context(postgres_database()) if database else None
            target = stack.enter_context(parley(workdir, layer_url="memory://", database_url=database_url, rooms=rooms))
            runs = [
                loadgen_rooms(target, sockets=sockets, rooms=rooms, rate=rate, seconds=10 if args.quick else 20)
                for _ in range(args.repeat)
            ]
        figure = {key: statistics.median(run[key] for run in runs) for key in ("ack_p99_ms", "delivery_p99_ms")}
        loss = max(run["loss"] for run in runs)
        print(f"   many rooms on {label}: {figure}, loss {loss}", flush=True)
        rows.append([
            f"many rooms: {sockets} sockets in {rooms} rooms, {rate} msg/s", f"Parley, {label}",
            f"ack p99 {figure['ack_p99_ms']:.0f} ms, delivery p99 {figure['delivery_p99_ms']:.0f} ms, loss {loss}",
            "",
        ])  # fmt: skip
    return rows


def sockets_and_handshakes(args: argparse.Namespace, workdir: Path, comparison: Comparison) -> list[list[str]]:
    """Idle sockets on one process (memory each, one broadcast to all: authenticated on Parley),
    for Parley and each peer in each client mode, and the rate of Parley's authenticated handshakes.
    Every idle count starts a fresh server process, so that no run reuses memory another freed."""
    idle, handshakes = (2000, 500) if args.quick else (10_000, 2000)
    rows = []
    servers: list[tuple[str, Callable[[], contextlib.AbstractContextManager[Target | None]]]] = [
        ("Parley", lambda: parley(workdir, layer_url="memory://")),
        ("Parley, deflate on", lambda: parley(workdir, layer_url="memory://", deflate=True)),
        ("limit server", lambda: limit_server(workdir)),
        ("Node ws", lambda: node_ws(workdir)),
        ("Socket.IO", lambda: socketio(workdir)),
    ]
    for compression in args.compression:
        clients = COMPRESSION_LABELS[compression]
        for name, start in servers:
            if name == "Parley, deflate on" and compression == "none":
                continue
            try:
                with start() as target:
                    if target is None:
                        continue
                    if name == "Parley":
                        connect_runs = [
                            loadgen_mode(target, "connect", handshakes, compression) for _ in range(args.repeat)
                        ]
                        rate = statistics.median(run["handshakes_per_s"] for run in connect_runs)
                        # What bounds the rate: the server's CPU per handshake (and so its rate on a
                        # core of its own), and how near a core the server and the load generator ran.
                        server_ms, server_cores, loadgen_cores = (
                            statistics.median(run[key] for run in connect_runs)
                            for key in ("server_cpu_ms_per_handshake", "server_cores", "loadgen_cores")
                        )
                        rows.append(
                            [
                                f"connect rate: authenticated handshakes, {clients}",
                                name,
                                f"{rate:,.0f} handshakes/s; server {server_ms:.2f} ms CPU each "
                                f"({1000 / server_ms:,.0f}/s on a core); cores: server {server_cores:.2f}, "
                                f"load generator {loadgen_cores:.2f}",
                                "",
                            ]
                        )
                    run = loadgen_mode(target, "idle", idle, compression)
            except RuntimeError as error:
                print(f"!! {error}", flush=True)
                continue
            print(f"   idle {name}, {clients}: {run}", flush=True)
            negotiated = negotiated_in([run], compression)
            comparison.put(IDLE_KB, compression, name, run["rss_per_socket_kb"], negotiated)
            comparison.put(IDLE_AFTER_KB, compression, name, run["rss_per_socket_after_broadcast_kb"], negotiated)
            comparison.put(IDLE_BROADCAST, compression, name, run["broadcast_seconds"], negotiated)
            authenticated = "authenticated " if name.startswith("Parley") else ""
            rows.append([
                f"idle: {idle} {authenticated}sockets, one process, {clients}", name,
                f"{run['rss_per_socket_kb']:.1f} KB RSS per socket; one broadcast reached "
                f"{run['broadcast_received']:.0f} in {run['broadcast_seconds']:.2f} s; "
                f"{run['rss_per_socket_after_broadcast_kb']:.1f} KB per socket after it", "",
            ])  # fmt: skip
    return rows


def loadgen_with(target: Target, *args: str) -> dict[str, float]:
    """Run the load generator against ``target`` with extra arguments; return its JSON summary.

    Socket.IO's protocol is spoken by ``bench/peers/socketio-loadgen.js`` (socket.io-client on
    Node), which takes the same options and prints the same summary."""
    if target.protocol == "socketio":
        options = list(args)
        with contextlib.suppress(ValueError):
            at = options.index("--protocol")
            del options[at : at + 2]
        command = ["node", str(PEERS / "socketio-loadgen.js"), "--url", target.url, "--room", "bench", *options]
    else:
        command = [sys.executable, str(REPO / "bench" / "loadgen.py"), "--url", target.url, "--room", "bench"]
        command += ["--token", target.token, *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired as expired:
        raise RuntimeError(f"load generator against {target.name} still running after 600 s: {command}") from expired
    if result.returncode != 0:
        raise RuntimeError(f"load generator failed against {target.name}:\n{result.stderr[-2000:]}")
    summary: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


def loadgen_mode(target: Target, mode: str, count: int, compression: str = "none") -> dict[str, float]:
    return loadgen_with(
        target, "--protocol", target.protocol, "--mode", mode, "--receivers", str(count),
        "--server-pid", str(target.pid), "--compression", compression,
    )  # fmt: skip


def loadgen_rooms(target: Target, *, sockets: int, rooms: int, rate: float, seconds: float) -> dict[str, float]:
    return loadgen_with(
        target, "--rooms", str(rooms), "--receivers", str(sockets), "--rate", str(rate), "--seconds", str(seconds)
    )


def two_processes(args: argparse.Namespace, workdir: Path, comparison: Comparison) -> list[list[str]]:
    """The fan-out room spread over two Parley processes sharing one database and Redis, and over
    two Socket.IO processes sharing rooms through its Redis adapter, in each client mode."""
    receivers = args.receivers
    layer = f"redis://127.0.0.1:6379/{REDIS_DB}"
    rows = []
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(parley(workdir, layer_url=layer))
        second = stack.enter_context(parley(workdir, layer_url=layer, database_url=first.database_url))
        targets = [Target("Parley x2", f"{first.url},{second.url}", "v1", first.token)]
        if (pair := stack.enter_context(socketio(workdir, count=2))) is not None:
            targets.append(pair)
        runs: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _ in range(args.repeat):
            for target in targets:
                for compression in args.compression:
                    measured = runs.setdefault((target.name, compression), [])
                    attempt(
                        measured,
                        target,
                        receivers=receivers,
                        messages=args.fixed_messages,
                        rate=20,
                        compression=compression,
                    )
    for (name, compression), measured in runs.items():
        if not measured:
            continue
        p50, p99 = median_of(measured, "p50_ms"), median_of(measured, "p99_ms")
        loss = max(run["loss"] for run in measured)
        clients = COMPRESSION_LABELS[compression]
        print(f"   two processes, {name}, {clients}: p50 {p50}, p99 {p99}, loss {loss}", flush=True)
        comparison.put(TWO_P99, compression, name.removesuffix(" x2"), p99, negotiated_in(measured, compression))
        server = "Parley x2 (Uvicorn)" if name == "Parley x2" else f"{name} (Redis adapter)"
        rows.append([
            f"two processes over Redis, {receivers} receivers, 20 msg/s, {clients}", server,
            f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, loss {loss:.0f}", "",
        ])  # fmt: skip
    return rows


def layers(args: argparse.Namespace, workdir: Path) -> list[list[str]]:
    """The fan-out room on one Parley process (Uvicorn, SQLite) for each channel layer: at 20
    messages a second, and flat out. One process still goes through the layer: the hub receives
    each room's messages from its group, so the layer's cost is in every delivery.

    Each layer's flat-out runs alternate with runs against the limit server, so every layer's ratio
    is taken against the ceiling as the machine stood at that moment."""
    receivers = args.receivers
    urls = {
        "memory://": "memory://",
        "redis://": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "redis+pubsub://": f"redis+pubsub://127.0.0.1:6379/{REDIS_DB}",
        "amqp://": RABBITMQ_URL,
    }
    rows = []
    with limit_server(workdir) as limit:
        for name, url in urls.items():
            ceiling: list[dict[str, float]] = []
            with parley(workdir, layer_url=url, layer_prefix=LAYER_PREFIX) as target:
                fixed = [
                    loadgen(target, receivers=receivers, messages=args.fixed_messages, rate=20)
                    for _ in range(args.repeat)
                ]
                flat = []
                for _ in range(args.repeat):
                    flat.append(loadgen(target, receivers=receivers, messages=args.flat_messages, rate=0))
                    if limit is not None:
                        ceiling.append(loadgen(limit, receivers=receivers, messages=args.flat_messages, rate=0))
            p50, p99, rate = median_of(fixed, "p50_ms"), median_of(fixed, "p99_ms"), median_of(flat, "deliveries_per_s")
            loss = max(run["loss"] for run in fixed + flat)
            ratio = f"{rate / median_of(ceiling, 'deliveries_per_s'):.2f}x limit" if ceiling else ""
            print(f"   layer {name}: p50 {p50}, p99 {p99}, {rate}/s flat out ({ratio}), loss {loss}", flush=True)
            rows.append([
                f"layers: fan-out, {receivers} receivers, one process", f"Parley, {name}",
                f"20 msg/s: p50 {p50:.0f} ms, p99 {p99:.0f} ms; flat out: {rate:,.0f} deliveries/s; loss {loss:.0f}",
                ratio,
            ])  # fmt: skip
    return rows


INGEST_ROOMS = 50


def ingest(args: argparse.Namespace, workdir: Path) -> list[list[str]]:
    """Messages one process stores and acknowledges per second: ``INGEST_ROOMS`` senders, each
    alone in its room and subscribed to it, each sending its next message as soon as the last is
    acknowledged, for ``--ingest-seconds``. On PostgreSQL (a database of the run's own) with each
    Redis layer, on SQLite with the Redis layer, and on PostgreSQL with the in-memory layer. With
    ``--profile DIR``, py-spy records the server during each variant's first run."""
    seconds = 5.0 if args.quick else args.ingest_seconds
    redis = f"redis://127.0.0.1:6379/{REDIS_DB}"
    variants = {
        "pg-redis": ("PostgreSQL, redis://", "postgres", redis),
        "pg-pubsub": ("PostgreSQL, redis+pubsub://", "postgres", f"redis+pubsub://127.0.0.1:6379/{REDIS_DB}"),
        "sqlite-redis": ("SQLite, redis://", "sqlite", redis),
        "pg-memory": ("PostgreSQL, memory://", "postgres", "memory://"),
    }
    rows = []
    for key, (label, database, layer_url) in variants.items():
        if args.ingest_variants and key not in args.ingest_variants:
            continue
        with contextlib.ExitStack() as stack:
            database_url = stack.enter_context(postgres_database()) if database == "postgres" else None
            target = stack.enter_context(
                parley(
                    workdir,
                    layer_url=layer_url,
                    database_url=database_url,
                    rooms=INGEST_ROOMS,
                    layer_prefix=LAYER_PREFIX,
                )
            )
            options = ["--mode", "ingest", "--rooms", str(INGEST_ROOMS), "--seconds", str(seconds)]
            options += ["--server-pid", str(target.pid)]
            runs = []
            for attempt_number in range(args.repeat):
                profile = None
                if args.profile and attempt_number == 0:
                    profile = stack.enter_context(py_spy(target.pid, args.profile, label, seconds))
                repaired_before = messages_repaired(target)
                runs.append(loadgen_with(target, *options))
                runs[-1]["repaired"] = messages_repaired(target) - repaired_before
                if profile is not None:
                    profile.wait(timeout=seconds + 60)
                print(f"   ingest, {label}: {runs[-1]}", flush=True)
        figure = {
            key: statistics.median(run[key] for run in runs)
            for key in ("msgs_per_s", "ack_p50_ms", "ack_p99_ms", "server_cpu_ms_per_msg", "server_cores")
        }
        refused = max(run["refused"] for run in runs)
        repaired = statistics.median(run["repaired"] for run in runs)
        rows.append([
            f"ingest: {INGEST_ROOMS} senders in {INGEST_ROOMS} rooms, next send on ack", f"Parley, {label}",
            f"{figure['msgs_per_s']:,.0f} msg/s; "
            f"ack p50 {figure['ack_p50_ms']:.0f} ms, p99 {figure['ack_p99_ms']:.0f} ms; "
            f"{figure['server_cpu_ms_per_msg']:.2f} ms server CPU/msg ({figure['server_cores']:.2f} cores); "
            f"refused {refused}; {repaired:,.0f} read again from storage",
            "",
        ])  # fmt: skip
    return rows


def messages_repaired(target: Target) -> float:
    """``parley_messages_repaired_total`` of ``target``'s server (its ``/metrics``, open to
    loopback): messages its hubs read from storage because the layer had not brought them in time."""
    url = target.url.replace("ws://", "http://", 1).split("/ws")[0] + "/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.split()[-1]) for line in text.splitlines() if line.startswith("parley_messages_repaired_total")
    )


@contextmanager
def py_spy(pid: int, directory: Path, label: str, seconds: float) -> Iterator[subprocess.Popen[bytes]]:
    """py-spy recording process ``pid`` for ``seconds`` into ``directory`` (a flame graph and
    the raw stacks, which ``python -m bench.profile`` sums up)."""
    exe = Path(sys.executable).parent / "py-spy"
    if not exe.exists():
        raise RuntimeError(f"--profile needs py-spy: {Path(sys.executable).parent / 'pip'} install py-spy")
    directory.mkdir(parents=True, exist_ok=True)
    name = "ingest-" + "-".join("".join(c if c.isalnum() else " " for c in label.lower()).split())
    command = [str(exe), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250", "--nonblocking"]
    with (directory / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(
            [*command, "--format", "raw", "--output", str(directory / f"{name}.txt")], stdout=log, stderr=log
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()


def print_table(rows: list[list[str]], header: list[str] | None = None) -> None:
    """``rows`` as a Markdown table under ``header`` (the long table's four columns by default)."""
    header = header or ["scenario", "server", "figure", "ratio"]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    global REDIS_DB
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller loads, one repetition")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--scenarios", default="fanout,rooms,two,idle", help="comma-separated: fanout, rooms, two, idle, layers, ingest"
    )
    parser.add_argument("--receivers", type=int, help="sockets in the fan-out room (default 1000; 200 with --quick)")
    parser.add_argument(
        "--compression",
        default="none,deflate",
        help="comma-separated client modes for fanout, two and idle: none, deflate (offered as browsers do)",
    )
    parser.add_argument(
        "--redis-db", default=REDIS_DB, help=f"the Redis database index the run uses and flushes (default {REDIS_DB})"
    )
    parser.add_argument("--ingest-seconds", type=float, default=15.0, help="ingest: how long each run sends")
    parser.add_argument(
        "--ingest-variants",
        default="",
        help="ingest: comma-separated variants to run (default all): pg-redis, pg-pubsub, sqlite-redis, pg-memory",
    )
    parser.add_argument("--profile", type=Path, help="ingest: record the server with py-spy into this directory")
    args = parser.parse_args()
    REDIS_DB = args.redis_db
    args.ingest_variants = [word for word in args.ingest_variants.split(",") if word]
    if args.quick:
        args.repeat = 1
    args.compression = [mode for mode in args.compression.split(",") if mode]
    if unknown := set(args.compression) - set(COMPRESSION_LABELS):
        parser.error(f"unknown --compression mode(s): {', '.join(sorted(unknown))}")
    args.receivers = args.receivers or (200 if args.quick else 1000)
    args.fixed_messages = 60 if args.quick else 100
    args.flat_messages = 50 if args.quick else 100
    flush_redis()
    started = time.monotonic()
    comparison = Comparison()
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        rows = fanout(args, Path(tmp), comparison) if "fanout" in args.scenarios else []
        if "rooms" in args.scenarios:
            rows += many_rooms(args, Path(tmp))
        if "two" in args.scenarios:
            rows += two_processes(args, Path(tmp), comparison)
        if "idle" in args.scenarios:
            rows += sockets_and_handshakes(args, Path(tmp), comparison)
        if "layers" in args.scenarios:
            rows += layers(args, Path(tmp))
        if "ingest" in args.scenarios:
            rows += ingest(args, Path(tmp))
    flush_redis()
    print(
        f"\nmedians of {args.repeat} run(s); {time.monotonic() - started:.0f} s; load generator on the same machine\n"
    )
    if comparison.cells:
        print("\n".join(comparison.lines()))
        print(
            "\nParley ÷ X: Parley's figure divided by X's (above 1 is better for deliveries/s, worse for ms, s and KB)."
            "\n†: the clients offered permessage-deflate and the server declined it.\n"
        )
    print_table(rows)


if __name__ == "__main__":
    main()
