"""Parley's benchmark: start what is measured, load it, print one table of figures and ratios.

Every figure for Parley is measured in the same run as the same load against the two references
in ``../shared/tools/`` (run from there, never copied): the bare ``websockets`` broadcast server
(the practical ceiling) and the article's tutorial app (the baseline). Absolute numbers are noise
on a shared machine; the ratios are what to quote. Each figure is the median of ``--repeat`` runs.

    python -m bench.run                 # all scenarios, 3 repetitions
    python -m bench.run --quick         # one repetition, smaller loads
    python -m bench.run --scenarios layers   # the fan-out room on each channel layer
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
REDIS_DB = "9"  # the benchmark's own Redis database index, flushed before and after
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


def loadgen(target: Target, *, receivers: int, messages: int, rate: float) -> dict[str, float]:
    """One room of ``receivers``, one sender: the load generator in its own process, so it has a core."""
    return loadgen_with(
        target, "--protocol", target.protocol, "--receivers", str(receivers), "--messages", str(messages),
        "--rate", str(rate),
    )  # fmt: skip


@contextmanager
def process(command: list[str], *, cwd: Path, env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """Run a reference server until the block ends."""
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(port, proc, log)
        yield
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
    ):
        yield Target("limit server", f"ws://127.0.0.1:{port}", "tutorial")


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


@contextmanager
def parley(
    workdir: Path,
    *,
    layer_url: str,
    database_url: str | None = None,
    kind: str = "uvicorn",
    rooms: int = 0,
    layer_prefix: str = "parley",
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
    server = ServerProcess(env=env, log=workdir / "parley.log", kind=kind).start()
    try:
        pid = server.proc.pid if server.proc else 0
        yield Target("Parley", server.ws_url, "v1", token, pid, env["DATABASE_URL"])
    finally:
        server.stop()


def flush_redis() -> None:
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], capture_output=True, check=False)


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def fanout(args: argparse.Namespace, workdir: Path) -> list[list[str]]:
    """One room of ``--receivers`` sockets, one sender: at a fixed rate, and flat out."""
    rows: list[list[str]] = []
    receivers = args.receivers
    figures: dict[str, dict[str, float]] = {}
    with (
        limit_server(workdir) as limit,
        tutorial_app(workdir, "redis") as tutorial,
        parley(workdir, layer_url=f"redis://127.0.0.1:6379/{REDIS_DB}") as ours,
    ):
        targets = [target for target in (limit, tutorial, ours) if target is not None]
        fixed: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
        flat: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
        # Round by round, each target in turn: a drift in the machine's other load touches all three.
        for _ in range(args.repeat):
            for target in targets:
                fixed[target.name].append(loadgen(target, receivers=receivers, messages=args.fixed_messages, rate=20))
                # The tutorial app saturates near 3,000/s: keep its flat-out run short.
                count = 10 if target.name == "tutorial app" else args.flat_messages
                flat[target.name].append(loadgen(target, receivers=receivers, messages=count, rate=0))
        for target in targets:
            runs = fixed[target.name]
            figures[target.name] = {
                "p50": median_of(runs, "p50_ms"),
                "p99": median_of(runs, "p99_ms"),
                "loss": max(run["loss"] for run in runs),
                "rate": median_of(flat[target.name], "deliveries_per_s"),
            }
            print(f"   {target.name}: {figures[target.name]}", flush=True)
    ceiling = figures.get("limit server", {}).get("rate")
    baseline = figures.get("tutorial app", {}).get("rate")
    for name, figure in figures.items():
        rows.append([
            f"fan-out, {receivers} receivers, 20 msg/s", name,
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
                f"fan-out, {receivers} receivers, flat out",
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


def sockets_and_handshakes(args: argparse.Namespace, workdir: Path) -> list[list[str]]:
    """Idle authenticated sockets on one process (memory each, one broadcast to all), and the
    rate of authenticated handshakes."""
    idle, handshakes = (2000, 500) if args.quick else (10_000, 2000)
    with parley(workdir, layer_url="memory://") as target:
        connect_runs = [loadgen_mode(target, "connect", handshakes) for _ in range(args.repeat)]
        idle_run = loadgen_mode(target, "idle", idle)
    rate = statistics.median(run["handshakes_per_s"] for run in connect_runs)
    print(f"   handshakes: {rate}/s; idle: {idle_run}", flush=True)
    return [
        [f"idle: {idle} authenticated sockets, one process", "Parley",
         f"{idle_run['rss_per_socket_kb']:.1f} KB RSS per socket; one broadcast reached "
         f"{idle_run['broadcast_received']:.0f} in {idle_run['broadcast_seconds']:.2f} s", ""],
        ["connect rate: authenticated handshakes", "Parley", f"{rate:,.0f} handshakes/s", ""],
    ]  # fmt: skip


def loadgen_with(target: Target, *args: str) -> dict[str, float]:
    """Run the load generator against ``target`` with extra arguments; return its JSON summary."""
    command = [sys.executable, str(REPO / "bench" / "loadgen.py"), "--url", target.url, "--room", "bench"]
    command += ["--token", target.token, *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"load generator failed against {target.name}:\n{result.stderr[-2000:]}")
    summary: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


def loadgen_mode(target: Target, mode: str, count: int) -> dict[str, float]:
    return loadgen_with(target, "--mode", mode, "--receivers", str(count), "--server-pid", str(target.pid))


def loadgen_rooms(target: Target, *, sockets: int, rooms: int, rate: float, seconds: float) -> dict[str, float]:
    return loadgen_with(
        target, "--rooms", str(rooms), "--receivers", str(sockets), "--rate", str(rate), "--seconds", str(seconds)
    )


def two_processes(args: argparse.Namespace, workdir: Path) -> list[list[str]]:
    """The fan-out room spread over two Parley processes sharing one database and Redis."""
    receivers = args.receivers
    layer = f"redis://127.0.0.1:6379/{REDIS_DB}"
    with parley(workdir, layer_url=layer) as first:
        env_url = first.database_url
        with parley(workdir, layer_url=layer, database_url=env_url) as second:
            both = Target("Parley x2", f"{first.url},{second.url}", "v1", first.token)
            runs = [
                loadgen(both, receivers=receivers, messages=args.fixed_messages, rate=20) for _ in range(args.repeat)
            ]
    p50, p99 = median_of(runs, "p50_ms"), median_of(runs, "p99_ms")
    loss = max(run["loss"] for run in runs)
    print(f"   two processes: p50 {p50}, p99 {p99}, loss {loss}", flush=True)
    return [[
        f"two processes over Redis, {receivers} receivers, 20 msg/s", "Parley x2 (Uvicorn)",
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, loss {loss:.0f}", "",
    ]]  # fmt: skip


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


def print_table(rows: list[list[str]]) -> None:
    header = ["scenario", "server", "figure", "ratio"]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller loads, one repetition")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--scenarios", default="fanout,rooms,two,idle", help="comma-separated: fanout, rooms, two, idle, layers"
    )
    parser.add_argument("--receivers", type=int, help="sockets in the fan-out room (default 1000; 200 with --quick)")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 1
    args.receivers = args.receivers or (200 if args.quick else 1000)
    args.fixed_messages = 60 if args.quick else 100
    args.flat_messages = 50 if args.quick else 100
    flush_redis()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        rows = fanout(args, Path(tmp)) if "fanout" in args.scenarios else []
        if "rooms" in args.scenarios:
            rows += many_rooms(args, Path(tmp))
        if "two" in args.scenarios:
            rows += two_processes(args, Path(tmp))
        if "idle" in args.scenarios:
            rows += sockets_and_handshakes(args, Path(tmp))
        if "layers" in args.scenarios:
            rows += layers(args, Path(tmp))
    flush_redis()
    print(
        f"\nmedians of {args.repeat} run(s); {time.monotonic() - started:.0f} s; load generator on the same machine\n"
    )
    print_table(rows)


if __name__ == "__main__":
    main()
