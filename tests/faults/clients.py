"""Reconnecting protocol v1 clients that behave as a careful real client does.

A ``Reader`` follows one room. When its socket is lost it connects to the next server of its
list (taking them in turn, with back-off) and resubscribes with ``since`` = the last seq it saw.
A ``Sender`` posts numbered messages, keeping a window of unacknowledged ones. When its socket
is lost it reconnects and first resends every message not yet acknowledged, with the same
``client_id``; a send answered ``unavailable`` is retried, with the same ``client_id``, after a
back-off. Each client runs in a task of its own until it is stopped; every wait on the network
is bounded, and a server that stays silent even to a ping is taken as gone.

Each message body starts with the moment it was first sent (``time.monotonic()`` of this
process), so a reader can tell every message's delivery latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.e2e.client import AMBIENT
from tests.frames import received_frame

Frame = dict[str, Any]

OPEN_TIMEOUT = 3.0
# A server silent this long is sent a ping; silent as long again, it is taken as gone.
IDLE = 3.0


class SocketLost(Exception):
    """The server answered nothing, not even a ping."""


# What losing a server looks like from a client: a closed socket, a refused or hanging connect.
LOST = (ConnectionClosed, OSError, InvalidHandshake, TimeoutError, SocketLost)


def backoff(attempt: int) -> float:
    """Exponential back-off with jitter: 50 ms doubling up to 1 s."""
    return min(0.05 * 2**attempt, 1.0) * random.uniform(0.5, 1.0)


def sent_at(body: str) -> float | None:
    """The send time a ``Sender`` put at the start of a body, if there is one."""
    try:
        return float(body.split(" ", 1)[0])
    except ValueError:
        return None


class ReconnectingClient:
    """A client that keeps one socket open to the first server of ``urls`` that answers.

    Losing a socket moves it to the next server in turn. ``repairs`` holds, for each loss, the
    seconds until the client was back in business (subclasses say when that is).
    """

    def __init__(self, urls: list[str], room: str, *, token: str | None = None, name: str | None = None) -> None:
        self.urls = urls
        self.room = room
        self.token = token
        self.name = name or room
        self.server = 0
        self.started_at = 0.0
        self.sessions = 0
        self.repairs: list[float] = []
        self.unexpected: list[Frame] = []
        self._lost_at: float | None = None
        self._heard_at = 0.0
        self._pinged = False
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The server in use (or to be tried next)."""
        return self.urls[self.server % len(self.urls)]

    def start(self) -> None:
        self.started_at = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Close the socket and stop reconnecting."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.check()

    def check(self) -> None:
        """Raise what ended the client's task, if anything did (a bug, or an assertion in it)."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            error = self._task.exception()
            if error is not None:
                raise error

    def finished(self) -> bool:
        """Whether the client has nothing left to do (a reader never has)."""
        return False

    async def session(self, socket: ClientConnection) -> None:
        """Use one open socket until it is lost (raise one of ``LOST``) or the client is finished."""
        raise NotImplementedError

    async def _run(self) -> None:
        attempt = 0
        while not self.finished():
            try:
                socket = await self._open()
            except LOST:
                self._lose()
                attempt += 1
                await asyncio.sleep(backoff(attempt))
                continue
            attempt = 0
            self.sessions += 1
            self._heard_at, self._pinged = time.monotonic(), False
            try:
                await self.session(socket)
            except LOST:
                self._lose()
            finally:
                await socket.close()

    async def _open(self) -> ClientConnection:
        query = f"?{urlencode({'name': self.name})}" if self.token is None else ""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token is not None else {}
        return await connect(
            f"{self.url}/ws/{query}",
            additional_headers=headers,
            open_timeout=OPEN_TIMEOUT,
            close_timeout=1,
            max_size=None,
            ping_interval=None,
        )

    def _lose(self) -> None:
        self.server += 1
        if self._lost_at is None:
            self._lost_at = time.monotonic()

    def _repaired(self) -> None:
        if self._lost_at is not None:
            self.repairs.append(time.monotonic() - self._lost_at)
            self._lost_at = None

    async def receive(self, socket: ClientConnection, within: float | None = None) -> Frame | None:
        """The next frame other than ``pong``, or None once ``within`` seconds have passed.

        A server silent for ``IDLE`` seconds is pinged; silent for ``IDLE`` more, it is gone.
        """
        deadline = None if within is None else time.monotonic() + within
        while True:
            now = time.monotonic()
            silent_until = self._heard_at + (2 * IDLE if self._pinged else IDLE)
            wait = silent_until - now if deadline is None else min(silent_until, deadline) - now
            text = None
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        text = await socket.recv()
            if text is None:
                now = time.monotonic()
                if now >= silent_until:
                    if self._pinged:
                        raise SocketLost(f"{self.url} answered nothing, not even a ping, for {2 * IDLE:.0f} s")
                    self._pinged = True
                    await socket.send('{"type":"ping"}')
                if deadline is not None and now >= deadline:
                    return None
                continue
            self._heard_at, self._pinged = time.monotonic(), False
            frame = received_frame(text)
            if frame.get("type") != "pong":
                return frame


class Reader(ReconnectingClient):
    """Follows a room across reconnects, resuming each time from the last seq it saw.

    ``seqs`` holds every seq received, in arrival order, across all its sockets; ``latencies``
    the matching delivery latencies (from the send time stamped in the body), ``sent`` the
    matching send times.
    """

    def __init__(self, urls: list[str], room: str, *, token: str | None = None, name: str | None = None) -> None:
        super().__init__(urls, room, token=token, name=name)
        self.seqs: list[int] = []
        self.sent: list[float] = []
        self.latencies: list[float] = []
        self.last_seq = 0
        self.subscribed = 0
        self.first_subscribed = 0.0  # seconds from start to the first ``subscribed``
        self.refused = 0  # subscribes answered 'unavailable'
        self.truncated = False

    async def session(self, socket: ClientConnection) -> None:
        await self._subscribe(socket)
        while True:
            frame = await self.receive(socket)
            assert frame is not None
            kind = frame.get("type")
            if kind == "message" and frame.get("room") == self.room:
                self._note(frame)
            elif kind == "subscribed" and frame.get("room") == self.room:
                self.subscribed += 1
                if self.subscribed == 1:
                    self.first_subscribed = time.monotonic() - self.started_at
                self.truncated |= frame["truncated"]
                self._repaired()
            elif kind == "error" and frame.get("code") == "unavailable":
                # Nothing was subscribed: ask again, from the same seq, after a back-off.
                self.refused += 1
                await asyncio.sleep(backoff(self.refused))
                await self._subscribe(socket)
            elif kind not in AMBIENT:
                self.unexpected.append(frame)

    async def _subscribe(self, socket: ClientConnection) -> None:
        await socket.send(json.dumps({"type": "subscribe", "room": self.room, "since": self.last_seq}))

    def _note(self, frame: Frame) -> None:
        now = time.monotonic()
        seq: int = frame["seq"]
        self.seqs.append(seq)
        self.last_seq = max(self.last_seq, seq)
        stamp = sent_at(frame["body"])
        self.sent.append(stamp if stamp is not None else now)
        self.latencies.append(now - stamp if stamp is not None else 0.0)

    async def wait_for_seq(self, seq: int, within: float) -> None:
        """Wait until this reader has seen ``seq``; fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while self.last_seq < seq:
            self.check()
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} saw seqs up to {self.last_seq}, not {seq}, within {within} s")
            await asyncio.sleep(0.02)

    async def wait_subscribed(self, within: float) -> None:
        """Wait for the first ``subscribed``; fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not self.subscribed:
            self.check()
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} was not subscribed to {self.room} within {within} s")
            await asyncio.sleep(0.02)


class Sender(ReconnectingClient):
    """Posts messages ``<prefix>-0``, ``<prefix>-1``… to a room, every one until it is acknowledged.

    At most ``window`` sends are unacknowledged at a time; a new one goes out at most every
    ``interval`` seconds, until ``limit`` have been numbered or ``stop_sending`` is called. The
    sender is finished once every numbered message is acknowledged.
    """

    def __init__(
        self,
        urls: list[str],
        room: str,
        *,
        prefix: str,
        token: str | None = None,
        name: str | None = None,
        window: int = 4,
        interval: float = 0.0,
        limit: int | None = None,
        padding: int = 0,
    ) -> None:
        super().__init__(urls, room, token=token, name=name or prefix)
        self.prefix = prefix
        self.window = window
        self.interval = interval
        self.limit = limit
        self.padding = " " + "x" * padding if padding else ""
        self.unacked: dict[str, str] = {}  # client_id -> body, oldest first
        self.acks: dict[str, int] = {}  # client_id -> the seq of its first ack
        self.acked_at: list[float] = []  # when each message was first acknowledged
        self.numbered = 0
        self.resent: set[str] = set()  # client_ids sent again after a reconnect
        self.unavailable = 0  # sends answered 'unavailable'
        self.stopping = False
        self._tries: dict[str, int] = {}

    def stop_sending(self) -> None:
        """Number no more messages; those not yet acknowledged are still sent until they are."""
        self.stopping = True

    def finished(self) -> bool:
        done_numbering = self.stopping or (self.limit is not None and self.numbered >= self.limit)
        return done_numbering and not self.unacked

    async def wait_finished(self, within: float) -> None:
        """Wait until every numbered message is acknowledged; fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not self.finished():
            self.check()
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {len(self.unacked)} message(s) still unacknowledged")
            await asyncio.sleep(0.02)
        self.check()

    async def session(self, socket: ClientConnection) -> None:
        for client_id, body in list(self.unacked.items()):
            self.resent.add(client_id)
            await self._send(socket, client_id, body)
        self._repaired()
        retries: dict[str, float] = {}  # client_id -> when to send it again
        next_new = time.monotonic()
        while not self.finished():
            now = time.monotonic()
            for client_id, due in list(retries.items()):
                if due <= now:
                    del retries[client_id]
                    if client_id in self.unacked:
                        await self._send(socket, client_id, self.unacked[client_id])
            if self._may_number() and now >= next_new:
                await self._send_new(socket)
                next_new = now + self.interval
                continue
            wakes = [*retries.values(), *([next_new] if self._may_number() else []), now + IDLE]
            frame = await self.receive(socket, within=max(min(wakes) - now, 0.0))
            if frame is not None:
                self._handle(frame, retries)

    def _may_number(self) -> bool:
        if self.stopping or (self.limit is not None and self.numbered >= self.limit):
            return False
        return len(self.unacked) < self.window

    async def _send_new(self, socket: ClientConnection) -> None:
        client_id = f"{self.prefix}-{self.numbered}"
        self.numbered += 1
        body = f"{time.monotonic():.6f} {client_id}{self.padding}"
        self.unacked[client_id] = body
        await self._send(socket, client_id, body)

    async def _send(self, socket: ClientConnection, client_id: str, body: str) -> None:
        frame = {"type": "send", "room": self.room, "body": body, "client_id": client_id, "ref": client_id}
        await socket.send(json.dumps(frame))

    def _handle(self, frame: Frame, retries: dict[str, float]) -> None:
        kind = frame.get("type")
        if kind == "ack" and frame.get("room") == self.room:
            client_id, seq = frame["client_id"], frame["seq"]
            if self.acks.setdefault(client_id, seq) != seq:
                self.unexpected.append(frame)  # a repeated send must get the first ack back
            if self.unacked.pop(client_id, None) is not None:
                self.acked_at.append(time.monotonic())
            self._tries.pop(client_id, None)
            retries.pop(client_id, None)
        elif kind == "error" and frame.get("code") == "unavailable" and frame.get("ref") in self.unacked:
            client_id = frame["ref"]
            self.unavailable += 1
            self._tries[client_id] = self._tries.get(client_id, 0) + 1
            retries[client_id] = time.monotonic() + backoff(self._tries[client_id])
        elif kind not in AMBIENT:
            self.unexpected.append(frame)
