"""One room's traffic in a fault test, and the checks of the delivery promise against it.

Readers and senders are dealt over the servers in turn; each fails over to the next servers of
the list. At the end every reader must hold exactly seqs 1..N (N the room's head), and the room
must hold exactly the acknowledged messages, each once, with the seq its ack gave.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import psycopg

from tests.e2e.site import Site
from tests.faults.clients import Reader, Sender
from tests.servers import ServerProcess

# The suite sets DATABASE_CONN_MAX_AGE=0 (pyproject.toml) and servers inherit it. Fault tests run
# them with persistent connections, as production does: an outage then leaves stale connections
# that the server must notice, and a flood is not slowed fourfold by a new connection per query.
PERSISTENT_CONNECTIONS = {"DATABASE_CONN_MAX_AGE": "60"}


def rotated(urls: list[str], start: int) -> list[str]:
    """``urls`` beginning with the one at ``start``: a client's first server, then its fallbacks."""
    start %= len(urls)
    return urls[start:] + urls[:start]


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    client_id: str
    author: str | None
    created_at: datetime


def stored_messages(database_url: str, room: str) -> tuple[int, list[StoredMessage]]:
    """The room's head (``last_seq``) and its stored messages in seq order, read from PostgreSQL."""
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as db:
        row = db.execute("SELECT id, last_seq FROM parley_room WHERE slug = %s", [room]).fetchone()
        assert row is not None, f"no room {room!r}"
        room_id, head = row
        rows = db.execute(
            "SELECT m.seq, m.client_id, u.username, m.created_at FROM parley_message m"
            " LEFT JOIN auth_user u ON u.id = m.author_id WHERE m.room_id = %s ORDER BY m.seq",
            [room_id],
        ).fetchall()
    return head, [StoredMessage(*row) for row in rows]


class Traffic:
    """``readers`` readers and one sender per token, dealt over ``servers`` in turn."""

    def __init__(
        self,
        servers: list[ServerProcess],
        room: str,
        *,
        readers: int,
        sender_tokens: list[str],
        **sender_options: object,
    ) -> None:
        urls = [server.ws_url for server in servers]
        self.room = room
        self.readers = [Reader(rotated(urls, i), room, name=f"reader-{i}") for i in range(readers)]
        self.senders = [
            Sender(rotated(urls, i), room, token=token, prefix=f"s{i}", **sender_options)  # type: ignore[arg-type]
            for i, token in enumerate(sender_tokens)
        ]

    @classmethod
    def for_site(
        cls,
        site: Site,
        servers: list[ServerProcess],
        room: str,
        *,
        readers: int,
        senders: int,
        **sender_options: object,
    ) -> Traffic:
        """Traffic whose senders each sign in with a token of their own from ``site``."""
        tokens = [site.token(f"sender-{i}") for i in range(senders)]
        return cls(servers, room, readers=readers, sender_tokens=tokens, **sender_options)

    async def start(self, within: float = 15.0) -> None:
        """Subscribe every reader, then start the senders."""
        for reader in self.readers:
            reader.start()
        await asyncio.gather(*(reader.wait_subscribed(within) for reader in self.readers))
        for sender in self.senders:
            sender.start()

    def add_reader(self, urls: list[str], name: str) -> Reader:
        """A reader that joins now (from seq 0: it must still get the room's whole sequence)."""
        reader = Reader(urls, self.room, name=name)
        self.readers.append(reader)
        reader.start()
        return reader

    def acked(self) -> int:
        return sum(len(sender.acks) for sender in self.senders)

    def acks_between(self, start: float, end: float) -> int:
        """How many messages were first acknowledged between these two ``time.monotonic()`` moments."""
        return sum(start <= moment <= end for sender in self.senders for moment in sender.acked_at)

    def in_flight(self, url: str | None = None) -> int:
        """Sends not yet acknowledged (of the senders using the server ``url``, when given)."""
        return sum(len(sender.unacked) for sender in self.senders if url is None or sender.url == url)

    def unavailable(self) -> int:
        return sum(sender.unavailable for sender in self.senders)

    async def wait_acked(self, count: int, within: float) -> None:
        """Wait until ``count`` messages are acknowledged in all; fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while self.acked() < count:
            for client in (*self.readers, *self.senders):
                client.check()
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.acked()} of {count} messages acknowledged within {within} s")
            await asyncio.sleep(0.02)

    async def wait_readers(self, seq: int, within: float) -> float:
        """Wait until every reader has seen ``seq``; return how long that took."""
        started = time.monotonic()
        await asyncio.gather(*(reader.wait_for_seq(seq, within) for reader in self.readers))
        return time.monotonic() - started

    async def finish(self, within: float = 30.0) -> int:
        """Stop numbering messages, wait until every one is acknowledged and every reader has the
        last of them; return the highest acknowledged seq."""
        for sender in self.senders:
            sender.stop_sending()
        await asyncio.gather(*(sender.wait_finished(within) for sender in self.senders))
        head = max(seq for sender in self.senders for seq in sender.acks.values())
        await self.wait_readers(head, within)
        return head

    async def close(self) -> None:
        await asyncio.gather(*(client.stop() for client in (*self.readers, *self.senders)), return_exceptions=True)

    def check_readers(self, head: int) -> None:
        """Every reader saw exactly seqs 1..head, in order, once each, and nothing unexpected."""
        for reader in self.readers:
            reader.check()
            assert not reader.unexpected, f"{reader.name} got unexpected frames: {reader.unexpected[:3]}"
            assert not reader.truncated, f"{reader.name} was given a truncated replay"
            if reader.seqs != list(range(1, head + 1)):
                raise AssertionError(f"{reader.name}: {describe_sequence(reader.seqs, head)}")

    def check_storage(self, database_url: str) -> tuple[int, list[StoredMessage]]:
        """The room holds exactly the acknowledged messages, once each, with the acknowledged seqs."""
        for sender in self.senders:
            sender.check()
            assert not sender.unexpected, f"{sender.name} got unexpected frames: {sender.unexpected[:3]}"
            assert not sender.unacked, f"{sender.name} has unacknowledged messages: {list(sender.unacked)[:5]}"
        head, stored = stored_messages(database_url, self.room)
        assert [message.seq for message in stored] == list(range(1, head + 1)), "stored seqs are not 1..head"
        counts = Counter(message.client_id for message in stored)
        duplicated = sorted(client_id for client_id, count in counts.items() if count > 1)
        assert not duplicated, f"stored more than once: {duplicated[:10]}"
        acked = {client_id: seq for sender in self.senders for client_id, seq in sender.acks.items()}
        by_client_id = {message.client_id: message.seq for message in stored}
        never_acked = sorted(set(by_client_id) - set(acked))
        assert not never_acked, f"stored but never acknowledged: {never_acked[:10]}"
        lost = sorted(set(acked) - set(by_client_id))
        assert not lost, f"acknowledged but not stored: {lost[:10]}"
        wrong = {cid: (seq, by_client_id[cid]) for cid, seq in acked.items() if by_client_id[cid] != seq}
        assert not wrong, f"acknowledged with another seq than stored (ack, stored): {dict(list(wrong.items())[:5])}"
        assert head == sum(sender.numbered for sender in self.senders)
        for sender in self.senders:
            mine = [message.author for message in stored if message.client_id.startswith(f"{sender.prefix}-")]
            assert len(set(mine)) <= 1, f"{sender.name}'s messages have several authors: {set(mine)}"
        return head, stored

    def reader_repairs(self) -> list[float]:
        return [repair for reader in self.readers for repair in reader.repairs]

    def sender_repairs(self) -> list[float]:
        return [repair for sender in self.senders for repair in sender.repairs]

    def resent(self) -> set[str]:
        return {client_id for sender in self.senders for client_id in sender.resent}

    def latencies_of_messages_sent_between(self, start: float, end: float) -> list[float]:
        """Every reader's delivery latency of the messages first sent between these ``time.monotonic()`` moments."""
        return [
            latency
            for reader in self.readers
            for sent, latency in zip(reader.sent, reader.latencies, strict=True)
            if start <= sent <= end
        ]


def describe_sequence(seqs: list[int], head: int) -> str:
    """What is wrong with a reader's seqs, as against 1..head: gaps, duplicates, steps back."""
    seen = set(seqs)
    missing = [seq for seq in range(1, head + 1) if seq not in seen]
    duplicates = sorted(seq for seq, count in Counter(seqs).items() if count > 1)
    backwards = [(a, b) for a, b in itertools.pairwise(seqs) if b <= a]
    extra = sorted(seq for seq in seen if not 1 <= seq <= head)
    return (
        f"{len(seqs)} seqs for head {head}; missing {missing[:10]} ({len(missing)}), "
        f"duplicated {duplicates[:10]} ({len(duplicates)}), out of order at {backwards[:5]}, beyond head {extra[:5]}"
    )


def summary(values: list[float]) -> str:
    """``n``, median and max of some durations, in milliseconds."""
    if not values:
        return "none"
    return f"n={len(values)} median={statistics.median(values) * 1000:.0f}ms max={max(values) * 1000:.0f}ms"


def error_lines(log: str) -> list[str]:
    """The lines of a server log that report an error (tracebacks are counted by their headline)."""
    return [line for line in log.splitlines() if " ERROR " in line or line.startswith("ERROR:")]


CHAINED = ("The above exception was the direct cause", "During handling of the above exception")


def traceback_count(log: str) -> int:
    """How many tracebacks a log holds, a chain of exceptions counting as one."""
    lines = [line for line in log.splitlines() if line.strip()]
    return sum(
        line.startswith("Traceback (most recent call last)") and not (i and lines[i - 1].startswith(CHAINED))
        for i, line in enumerate(lines)
    )
