"""A room's export keeps the server's memory flat: its RSS while it streams 10,000 and 100,000 messages.

    python -m bench.export_rss                          # SQLite and PostgreSQL, Uvicorn and Daphne, 3 runs
    python -m bench.export_rss --databases sqlite --servers uvicorn --repeat 1   # a quick look

For each database (a fresh SQLite file; a PostgreSQL database it creates and drops) the bench
fills rooms of each ``--sizes`` (bulk inserts, in seconds: edits, reactions, replies and
attachments on some messages, as a busy room has), then for each server kind and each run starts
a fresh server process exactly as the tests do (``tests.servers.ServerProcess``), warms it with
one small export of each kind, and downloads the room's export over HTTP as its owner (and, with
``--person``, the owner's own export, which holds the same messages) while a thread samples the
server's RSS from ``/proc``. It prints RSS before, the peak during the download and the growth,
as medians of ``--repeat`` fresh servers, and checks every downloaded document parses with every
message in it. Flat means the growth does not follow the room's size.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.run import postgres_database, print_table
from bench.soak import rss_kib
from tests.servers import NO_RATE_LIMITS, ServerProcess, manage, server_env

WARMUP_MESSAGES = 200
SAMPLE_EVERY = 0.005  # seconds between two reads of the server's RSS
CHUNK = 64 * 1024
TABLE_HEADER = ["database", "server", "export", "messages", "archive MB", "RSS before", "peak", "growth", "after", "s"]

# Run in the server's environment (``manage.py shell``): one room of ``messages`` messages written
# by its owner, with what makes an archive's rows varied, inserted in bulk. Prints the owner's token.
SEED = """
from bench.export_rss import seed_room
print(seed_room(slug={slug!r}, messages={messages}))
"""

ANALYZE = "from django.db import connection\nconnection.cursor().execute('ANALYZE')"


def seed_room(*, slug: str, messages: int) -> str:
    """Create room ``slug`` with ``messages`` messages by its owner ``<slug>-owner``; return the owner's API token.

    Every 10th message was edited, every 97th deleted (its body in its history), every 5th has
    reactions from two members, every 20th replies to the one before it (whose ``thread_count``
    says so), and every 100th carries an attachment (the row only: an archive lists files, never
    reads them).
    """
    from django.utils import timezone

    from parley.accounts.services import token_issue, user_get_or_create
    from parley.rooms.models import Attachment, Membership, Message, MessageEdit, Reaction, Room

    now = timezone.now()
    batch = 5000
    # No transaction around it all: building 100,000 rows between two statements would outlast the
    # example site's idle-in-transaction timeout on PostgreSQL. Each bulk insert is a transaction.
    owner = user_get_or_create(username=f"{slug}-owner")
    members = [user_get_or_create(username=f"{slug}-member{n}") for n in range(2)]
    room = Room.objects.create(slug=slug, title=f"A room of {messages:,} messages", last_seq=messages)
    Membership.objects.create(room=room, user=owner, role=Membership.Role.OWNER)
    Membership.objects.bulk_create(Membership(room=room, user=member) for member in members)
    rows = []
    for seq in range(1, messages + 1):
        replies = seq + 1 <= messages and (seq + 1) % 20 == 0
        rows.append(
            Message(
                room=room,
                seq=seq,
                author=owner,
                body="" if seq % 97 == 0 else f"Message {seq}: the shipment for order {seq * 7} left the depot.",
                client_id=f"seed-{seq}",
                created_at=now,
                edited_at=now if seq % 10 == 0 else None,
                deleted_at=now if seq % 97 == 0 else None,
                reply_to=seq - 1 if seq % 20 == 0 else None,
                thread_count=1 if replies else 0,
                has_attachments=seq % 100 == 0,
            )
        )
    Message.objects.bulk_create(rows, batch_size=batch)
    ids = dict(Message.objects.filter(room=room).values_list("seq", "pk"))
    MessageEdit.objects.bulk_create(
        (
            MessageEdit(
                message_id=ids[seq],
                action=MessageEdit.Action.DELETE if seq % 97 == 0 else MessageEdit.Action.EDIT,
                previous_body=f"Message {seq}, as first written.",
                edited_by=owner,
                edited_at=now,
            )
            for seq in ids
            if seq % 10 == 0 or seq % 97 == 0
        ),
        batch_size=batch,
    )
    Reaction.objects.bulk_create(
        (
            Reaction(message_id=ids[seq], user=member, emoji=emoji)
            for seq in ids
            if seq % 5 == 0 and seq % 97
            for member, emoji in zip(members, ("👍", "🎉"), strict=True)
        ),
        batch_size=batch,
    )
    Attachment.objects.bulk_create(
        (
            Attachment(
                room=room,
                message_id=ids[seq],
                uploader=owner,
                name=f"invoice-{seq}.pdf",
                content_type="application/pdf",
                size=48_213,
                file=f"parley/attachments/{room.pk}/seed-{seq}.pdf",
            )
            for seq in ids
            if seq % 100 == 0 and seq % 97
        ),
        batch_size=batch,
    )
    return token_issue(user=owner, name="bench").secret


@dataclass
class Download:
    """One export downloaded while the server's RSS was sampled (KiB)."""

    rss_before: int
    rss_peak: int
    rss_after: int
    seconds: float
    size: int
    messages: int

    @property
    def growth(self) -> int:
        return self.rss_peak - self.rss_before

    def line(self) -> str:
        """The run in one line, in MiB."""
        return (
            f"RSS {mib(self.rss_before)} MiB before, peak {mib(self.rss_peak)} (+{mib(self.growth)}), "
            f"{mib(self.rss_after)} after; {self.size / 1e6:.1f} MB in {self.seconds:.1f} s, {self.messages:,} messages"
        )


class RssSampler(threading.Thread):
    """Reads a process's ``VmRSS`` every ``SAMPLE_EVERY`` seconds until stopped; ``peak`` is the highest.

    The kernel's own high-water mark (``VmHWM``) is reset first where ``/proc/<pid>/clear_refs``
    allows it, and counted too, so that a peak between two samples is not missed."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_kib(pid)
        self.hwm_reset = _reset_peak(pid)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(SAMPLE_EVERY)

    def stop(self) -> int:
        """Stop sampling; the peak RSS seen, in KiB."""
        self.done.set()
        self.join()
        if self.hwm_reset:
            self.peak = max(self.peak, rss_kib(self.pid, "VmHWM"))
        return self.peak


def _reset_peak(pid: int) -> bool:
    """Reset the process's ``VmHWM`` to its current RSS (``clear_refs`` 5); False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def download(port: int, path: str, token: str, into: Path, rate: float = 0) -> tuple[float, int]:
    """GET ``path`` with the bearer ``token`` into the file ``into``, reading as it arrives (at most
    ``rate`` bytes a second when given: a client on a slow link); (seconds, bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.monotonic()
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {response.read()[:500]!r}")
        size = 0
        with into.open("wb") as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                size += len(chunk)
                if rate:
                    time.sleep(max(0.0, started + size / rate - time.monotonic()))
    finally:
        connection.close()
    return time.monotonic() - started, size


def counted_messages(document_path: Path, expected: int) -> int:
    """The number of messages in a downloaded archive; raises unless it parses and holds ``expected``."""
    with document_path.open("rb") as source:
        document = json.load(source)
    messages = document["messages"]
    seqs = sorted(message["seq"] for message in messages)
    if len(messages) != expected or (
        document.get("format") == "parley.room-archive" and seqs != list(range(1, expected + 1))
    ):
        raise RuntimeError(f"{document_path.name}: {len(messages)} messages, expected {expected}")
    return len(messages)


@dataclass
class Site:
    """A seeded database: its environment, and each room's owner token by size."""

    env: dict[str, str]
    tokens: dict[int, str]


@contextlib.contextmanager
def seeded_site(database: str, sizes: list[int], workdir: Path, extra_env: dict[str, str]) -> Iterator[Site]:
    """A migrated database (``sqlite`` or ``postgres``) with a warm-up room and a room of each of ``sizes``."""
    with contextlib.ExitStack() as stack:
        if database == "postgres":
            database_url = stack.enter_context(postgres_database())
        else:
            database_url = f"sqlite:///{workdir / f'export-{time.monotonic_ns()}.sqlite3'}"
        env = server_env(DATABASE_URL=database_url, PARLEY_LOG_LEVEL="WARNING", **NO_RATE_LIMITS, **extra_env)
        manage(env, "migrate", "--noinput", "-v0")
        tokens = {}
        for size in [WARMUP_MESSAGES, *sizes]:
            started = time.monotonic()
            out = manage(env, "shell", "-c", SEED.format(slug=f"export-{size}", messages=size))
            tokens[size] = out.strip().splitlines()[-1]
            print(f"   {database}: room export-{size} seeded in {time.monotonic() - started:.1f} s", flush=True)
        if database == "postgres":
            # The statistics autovacuum would have gathered by the time a room holds 100,000 messages.
            # Without them the planner expects a few rows, and reads each batch by sorting every row
            # after it: minutes instead of seconds, on the database's side (the server's RSS is the same).
            manage(env, "shell", "-c", ANALYZE)
        yield Site(env=env, tokens=tokens)


def measure(site: Site, kind: str, size: int, person: bool, workdir: Path, rate: float = 0) -> Download:
    """One fresh server of ``kind``: warm it, then download room ``export-<size>``'s export (or its owner's own)."""
    server = ServerProcess(env=site.env, log=workdir / f"{kind}.log", kind=kind).start()
    assert server.proc is not None
    pid = server.proc.pid
    try:
        # Import, connect and compile everything an export touches before the RSS before is read.
        warm = workdir / "warm.json"
        download(server.port, f"/api/rooms/export-{WARMUP_MESSAGES}/export", site.tokens[WARMUP_MESSAGES], warm)
        download(server.port, "/api/me/export", site.tokens[WARMUP_MESSAGES], warm)
        time.sleep(0.5)
        path = "/api/me/export" if person else f"/api/rooms/export-{size}/export"
        sampler = RssSampler(pid)
        before = rss_kib(pid)
        sampler.start()
        target = workdir / "export.json"
        seconds, length = download(server.port, path, site.tokens[size], target, rate)
        peak = sampler.stop()
        after = rss_kib(pid)
    finally:
        server.stop()
    messages = counted_messages(target, size)
    target.unlink()
    return Download(rss_before=before, rss_peak=peak, rss_after=after, seconds=seconds, size=length, messages=messages)


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def summary(runs: list[Download]) -> dict[str, Any]:
    """The medians of ``runs`` (MiB, s, MB)."""
    return {
        "rss_before_mib": round(statistics.median(run.rss_before for run in runs) / 1024, 1),
        "rss_peak_mib": round(statistics.median(run.rss_peak for run in runs) / 1024, 1),
        "growth_mib": round(statistics.median(run.growth for run in runs) / 1024, 1),
        "rss_after_mib": round(statistics.median(run.rss_after for run in runs) / 1024, 1),
        "seconds": round(statistics.median(run.seconds for run in runs), 2),
        "archive_mb": round(statistics.median(run.size for run in runs) / 1e6, 1),
        "messages": runs[0].messages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated room sizes, in messages")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--servers", default="uvicorn,daphne", help="comma-separated: uvicorn, daphne")
    parser.add_argument("--repeat", type=int, default=3, help="fresh servers per figure (the median is printed)")
    parser.add_argument("--person", action="store_true", help="also download the owner's own export (/api/me/export)")
    parser.add_argument(
        "--read-rate", type=float, default=0, help="MB a second the client reads at (default: as fast as it can)"
    )
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="an environment variable for the server"
    )
    args = parser.parse_args()
    extra_env = dict(setting.split("=", 1) for setting in args.server_env)
    sizes = [int(size) for size in args.sizes.split(",") if size]
    kinds = ["room", "person"] if args.person else ["room"]
    cases = list(itertools.product(kinds, sizes))
    results: dict[tuple[str, str, str, int], list[Download]] = {}
    with tempfile.TemporaryDirectory(prefix="parley-export-rss-") as tmp:
        workdir = Path(tmp)
        for database in [name for name in args.databases.split(",") if name]:
            with seeded_site(database, sizes, workdir, extra_env) as site:
                # Round by round, every case in turn: a drift in the machine's other load touches all of them.
                for server, _, (kind, size) in itertools.product(args.servers.split(","), range(args.repeat), cases):
                    run = measure(site, server, size, kind == "person", workdir, args.read_rate * 1e6)
                    print(f"   {database}, {server}, {kind} export of {size:,}: {run.line()}", flush=True)
                    results.setdefault((database, server, kind, size), []).append(run)
    print(f"\nmedians of {args.repeat} fresh server(s) each; RSS in MiB, sampled every {SAMPLE_EVERY * 1000:.0f} ms\n")
    rows = []
    for (database, server, kind, size), runs in results.items():
        figure = summary(runs)
        measured = ("archive_mb", "rss_before_mib", "rss_peak_mib", "growth_mib", "rss_after_mib", "seconds")
        rows.append([database, server, kind, f"{size:,}", *(str(figure[key]) for key in measured)])
    print_table(rows, header=TABLE_HEADER)


if __name__ == "__main__":
    main()
