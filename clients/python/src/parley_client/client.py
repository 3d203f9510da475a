"""The asyncio client: one WebSocket to Parley's ``/ws/`` that keeps the delivery promise.

Parley delivers every message once and in order only if the client does its part (see the
protocol, "Delivery"): this client reconnects with exponential back-off and full jitter,
resubscribes each room with ``since`` = the last seq it delivered, fills any gap from ``history``,
drops the seqs it has already delivered, and resends every unacknowledged ``send`` with the same
``client_id`` (the server stores a retry at most once). A socket closed with 4401 (the token is
unknown or revoked) ends the client instead of reconnecting.

One module, longer than most, on purpose: ``ParleyClient`` is one state machine (the socket, its
reconnect loop, each room's last seq and the unacknowledged sends) on one event loop, and split
across modules its parts would only pass that state back and forth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from parley_client import frames
from parley_client.errors import (
    ClientClosed,
    HandshakeRefused,
    ParleyError,
    Unauthorized,
    error_from_frame,
)
from parley_client.events import ConnectionState, Event, RoomLost, State
from parley_client.frames import (
    Ack,
    AttachmentData,
    Error,
    HistoryPage,
    Message,
    MessageUpdated,
    NotificationsReplayed,
    NotificationsUnread,
    Pong,
    Reactions,
    Subscribed,
    Unread,
    Unsubscribed,
)
from parley_client.uploads import FileSource, api_url_for, upload_file

logger = logging.getLogger("parley_client")

__version__ = "0.1.0"

# Close codes with a meaning for the client (docs/protocol.md, "Errors and closing").
CLOSE_UNAUTHORIZED = 4401
CLOSE_RATE_LIMITED = 4429
# The server stored or did nothing and says so: the same frame may be sent again.
RETRYABLE = frozenset({"rate_limited", "unavailable", "internal"})
# The largest ``history`` page the server gives.
HISTORY_PAGE = 100


def full_jitter(attempt: int, *, base: float, cap: float) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (0, 1, 2…): uniform between 0 and
    ``min(cap, base * 2**attempt)``, so that clients dropped together do not return together."""
    return random.uniform(0, min(cap, base * 2 ** min(attempt, 32)))


@dataclass
class _Request:
    """A frame awaiting its reply (matched by ``ref``), resent after every reconnect until answered."""

    frame: dict[str, Any]
    future: asyncio.Future[Any]
    tries: int = 0
    timer: asyncio.TimerHandle | None = None


@dataclass
class _Room:
    """What the client knows of one room it follows."""

    slug: str
    # The newest seq delivered to ``messages()``: a resubscribe asks for what follows it. None
    # until the first ``subscribed`` when subscribing without ``since``.
    last_seq: int | None
    # Messages that arrived ahead of a gap, by seq, delivered once the gap is filled.
    ahead: dict[int, Message] = field(default_factory=dict)
    # Subscribed on the current socket (``subscribed`` arrived).
    live: bool = False
    sub_ref: str | None = None
    sub_tries: int = 0
    sub_timer: asyncio.TimerHandle | None = None
    # Callers of ``subscribe()`` waiting for ``subscribed``.
    waiters: list[asyncio.Future[Subscribed]] = field(default_factory=list)
    # The ``history`` request filling a gap: (ref, before), while one is on its way.
    gap: tuple[str, int] | None = None
    gap_tries: int = 0


class _End:
    """Put on a queue when the client stops: iterators end there."""


_END = _End()


class EventStream:
    """An async iterator over the client's events (``ParleyClient.events()``).

    It receives events from the moment it is created, so create it before subscribing to see the
    first ``Presence``. It ends when the client closes; ``close()`` stops it earlier.
    """

    def __init__(self, client: ParleyClient, kinds: tuple[type[Any], ...]) -> None:
        self._client = client
        self._kinds = kinds
        self._queue: asyncio.Queue[Event | _End] = asyncio.Queue()

    def _offer(self, event: Event | _End) -> None:
        if isinstance(event, _End) or not self._kinds or isinstance(event, self._kinds):
            self._queue.put_nowait(event)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        item = await self._queue.get()
        if isinstance(item, _End):
            self._queue.put_nowait(item)
            raise StopAsyncIteration
        return item

    async def _next(self, wait: float | None) -> Event | None:
        """The next event, or None when the stream ended or none came within ``wait`` seconds."""
        try:
            item = await asyncio.wait_for(self._queue.get(), wait)
        except TimeoutError:
            return None
        if isinstance(item, _End):
            self._queue.put_nowait(item)
            return None
        return item

    def close(self) -> None:
        """Stop receiving events; the iterator ends after those already queued."""
        self._client._streams.discard(self)
        self._queue.put_nowait(_END)


class ParleyClient:
    """A Parley client over one WebSocket, reconnecting by itself.

    ``url`` is the server's ``/ws/`` address (``ws://`` or ``wss://``). ``token`` is an API token
    (``manage.py issuetoken USERNAME``), sent as ``Authorization: Bearer``; without one the client
    is a guest named ``name`` when the server allows guests. Reconnects wait a random time between
    0 and ``min(backoff_cap, backoff_base * 2**attempt)`` seconds (full jitter), attempt counting
    from 0 again once a connection works. ``api_url`` is the HTTP API's address, for ``upload()``
    (``http://host/api`` beside ``ws://host/ws/`` unless given).

    Use it as an async context manager (``async with ParleyClient(...) as client``), or call
    ``connect()`` and ``close()``.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        name: str | None = None,
        headers: dict[str, str] | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 15.0,
        open_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        api_url: str | None = None,
        upload_timeout: float = 300.0,
    ) -> None:
        self.url = _with_name(url, name)
        # The HTTP API, for uploads: beside the socket's address unless given.
        self.api_url = api_url or api_url_for(url)
        self.upload_timeout = upload_timeout
        self._headers = dict(headers or {})
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval

        self.state: State = "closed"
        self._socket: ClientConnection | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._opened: asyncio.Event | None = None
        self._closing = False
        self._failure: ParleyError | None = None
        self._refs = 0
        self._rooms: dict[str, _Room] = {}
        self._requests: dict[str, _Request] = {}
        self._messages: asyncio.Queue[Message | _End] = asyncio.Queue()
        self._streams: set[EventStream] = set()
        # Notifications: resumed after a reconnect once ``notifications()`` was called.
        self._notifications_followed = False
        self._notification_seen = 0
        # Set while a connection is up, once the server answered something other than an error:
        # the back-off starts again from its first step after such a connection.
        self._healthy = False
        self._last_error: Error | None = None
        self._reconnect_after = 0.0
        self._connection_number = 0

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> ParleyClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Start the connection and wait until the first socket is open. Failed attempts are
        retried with back-off; a refused handshake (HTTP 4xx) raises ``HandshakeRefused``."""
        if self._runner is None:
            self._opened = asyncio.Event()
            self._set_state("connecting")
            self._runner = asyncio.create_task(self._run(), name="parley-client")
        assert self._opened is not None
        opened = asyncio.create_task(self._opened.wait())
        await asyncio.wait({opened, self._runner}, return_when=asyncio.FIRST_COMPLETED)
        opened.cancel()
        if self._failure is not None:
            raise self._failure
        if self._closing:
            raise ClientClosed("closed", "The client was closed.")

    async def close(self) -> None:
        """Close the socket and stop reconnecting. Requests still waiting raise ``ClientClosed``;
        ``messages()`` and ``events()`` end once they have yielded what arrived before."""
        self._closing = True
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        self._stop(ClientClosed("closed", "The client was closed."))

    @property
    def connected(self) -> bool:
        """Whether a socket is open right now."""
        return self._socket is not None

    # -- messages and events ----------------------------------------------------------------

    async def messages(self) -> AsyncIterator[Message]:
        """Every message of every room subscribed, once each, in seq order per room.

        Messages are kept from the first ``subscribe`` until read, so none is missed between
        ``subscribe()`` and the loop. It ends when the client is closed; after a fatal error
        (``Unauthorized``, ``HandshakeRefused``) it raises that error.
        """
        while True:
            item = await self._messages.get()
            if isinstance(item, _End):
                self._messages.put_nowait(item)  # every other reader ends too
                if self._failure is not None and not isinstance(self._failure, ClientClosed):
                    raise self._failure
                return
            yield item

    async def _next_message(self, wait: float | None) -> Message | None:
        """The next message, or None when none came within ``wait`` seconds, or the client
        stopped (after a fatal error, that error is raised)."""
        try:
            item = await asyncio.wait_for(self._messages.get(), wait)
        except TimeoutError:
            return None
        if isinstance(item, _End):
            self._messages.put_nowait(item)
            if self._failure is not None and not isinstance(self._failure, ClientClosed):
                raise self._failure
            return None
        return item

    def events(self, *kinds: type[Any]) -> EventStream:
        """An iterator over events: presence, typing, unread states, edits and deletes
        (``MessageUpdated``), reactions, notifications and their unread count, and the client's
        own ``ConnectionState`` and ``RoomLost``. Give classes to receive only those:
        ``client.events(Presence, PresenceDiff)``. Each stream gets every event from its creation.
        """
        stream = EventStream(self, kinds)
        if self._closing or self._failure is not None:
            stream._offer(_END)
        else:
            self._streams.add(stream)
        return stream

    # -- requests ---------------------------------------------------------------------------

    async def subscribe(self, room: str, *, since: int | None = None) -> Subscribed:
        """Follow ``room``: with ``since``, the stored messages after that seq come first, then
        live ones; without it, only new messages. Returns once the server answers ``subscribed``
        (on this socket or, after a reconnect, a later one). Subscribing again restarts the room's
        stream from the new ``since``."""
        self._check_running()
        state = self._rooms.get(room)
        if state is None or since is not None:
            waiters = state.waiters if state is not None else []
            if state is not None:
                self._cancel_room_timers(state)
            state = _Room(slug=room, last_seq=since, waiters=waiters)
            self._rooms[room] = state
        future: asyncio.Future[Subscribed] = asyncio.get_running_loop().create_future()
        state.waiters.append(future)
        self._send_subscribe(state)
        return await future

    async def unsubscribe(self, room: str) -> None:
        """Stop following ``room``; its messages stop at once."""
        state = self._rooms.pop(room, None)
        if state is not None:
            self._cancel_room_timers(state)
            for waiter in state.waiters:
                if not waiter.done():
                    waiter.set_exception(ClientClosed("closed", f"Unsubscribed from {room!r}."))
        await self._request({"type": "unsubscribe", "room": room})

    async def send(
        self,
        room: str,
        body: str,
        *,
        client_id: str | None = None,
        reply_to: int | None = None,
        attachments: Sequence[int | AttachmentData] = (),
    ) -> Ack:
        """Post ``body`` to ``room``; returns the ``Ack`` (``seq``, ``id``) once it is stored.

        ``reply_to`` (a seq of the room) makes it a reply in that message's thread; ``attachments``
        are uploads of yours to the room (``upload()``'s results or their ids), not yet attached.
        Sent now if a socket is open, else as soon as one is; resent with the same ``client_id``
        after every reconnect and after ``rate_limited`` (waiting ``retry_after``), until the
        server acknowledges it, so it is stored exactly once."""
        frame = frames.Send(type="send", room=room, body=body, client_id=client_id or uuid.uuid4().hex)
        if reply_to is not None:
            frame["reply_to"] = reply_to
        if attachments:
            frame["attachments"] = [item.id if isinstance(item, AttachmentData) else item for item in attachments]
        ack: Ack = await self._request(dict(frame), ref=f"send:{frame['client_id']}")
        return ack

    async def upload(self, room: str, file: FileSource, *, filename: str | None = None) -> AttachmentData:
        """Upload ``file`` (a path, or a binary file open for reading) to ``room`` over the HTTP API,
        to attach to your next ``send`` there: ``send(room, body, attachments=[uploaded])``.

        Needs a token (guests cannot upload). The file is streamed, not read whole; ``filename``
        (the path's or the file object's name by default) is what readers see. The server reads
        the type from the content; a refusal raises the typed ``ParleyError`` with the server's
        sentence (``TooLarge`` names the limit and the file's size). Not retried: a failed upload
        stored nothing to attach, so calling again is safe."""
        self._check_running()
        return await asyncio.to_thread(
            upload_file,
            self.api_url,
            room,
            file,
            filename=filename,
            headers=self._http_headers(),
            timeout=self.upload_timeout,
        )

    def _http_headers(self) -> dict[str, str]:
        """The headers an HTTP API call carries: the token, and the caller's own headers (no Origin:
        the API's cookie-less bearer calls need none)."""
        return {key: value for key, value in self._headers.items() if key.lower() != "origin"}

    async def history(
        self, room: str, *, before: int | None = None, limit: int = 50, thread: int | None = None
    ) -> list[Message]:
        """The page of ``room``'s messages before seq ``before`` (the newest without it), oldest
        first, at most ``limit`` (1 to 100). With ``thread`` (a seq), the thread of that message
        instead: its original first, then up to ``limit`` of its replies (deleted ones left out)."""
        frame = frames.History(type="history", room=room, limit=limit)
        if before is not None:
            frame["before"] = before
        if thread is not None:
            frame["thread"] = thread
        page: HistoryPage = await self._request(dict(frame))
        return [_message(item) for item in page.messages]

    async def edit(self, room: str, seq: int, body: str) -> MessageUpdated:
        """Replace the body of your own message ``seq``; returns its new state."""
        frame = frames.Edit(type="edit", room=room, seq=seq, body=body)
        updated: MessageUpdated = await self._request(dict(frame))
        return updated

    async def delete(self, room: str, seq: int) -> MessageUpdated:
        """Delete message ``seq`` (your own, or any in a room you moderate); returns its new state."""
        frame = frames.Delete(type="delete", room=room, seq=seq)
        updated: MessageUpdated = await self._request(dict(frame))
        return updated

    async def react(self, room: str, seq: int, emoji: str, *, on: bool = True) -> Reactions:
        """Put ``emoji`` on message ``seq`` (``on=False`` takes yours off); returns the counts."""
        frame = frames.React(type="react", room=room, seq=seq, emoji=emoji, on=on)
        reactions: Reactions = await self._request(dict(frame))
        return reactions

    async def read(self, room: str, seq: int) -> Unread:
        """Move your read marker in ``room`` up to ``seq`` (it never moves back); returns the state."""
        frame = frames.Read(type="read", room=room, seq=seq)
        unread: Unread = await self._request(dict(frame))
        return unread

    async def typing(self, room: str) -> None:
        """Tell the room's others you are typing (no reply; dropped while disconnected)."""
        state = self._rooms.get(room)
        if state is not None and state.live:
            self._transmit(dict(frames.Typing(type="typing", room=room)))

    async def notifications(self, *, since: int | None = None) -> NotificationsReplayed:
        """Replay your notifications after id ``since`` (all of them without it) as
        ``Notification`` events, and from now on resume them after every reconnect, so none is
        missed or repeated. Returns the unread count once the replay is done."""
        self._notifications_followed = True
        self._notification_seen = since or 0
        frame = frames.Notifications(type="notifications")
        if since is not None:
            frame["since"] = since
        replayed: NotificationsReplayed = await self._request(dict(frame))
        return replayed

    async def notification_read(self, id: int | None = None, *, all: bool = False) -> int:
        """Mark notification ``id`` read, or every one with ``all=True``; returns the unread count."""
        frame = frames.NotificationRead(type="notification_read", all=all)
        if id is not None:
            frame["id"] = id
        unread: NotificationsUnread = await self._request(dict(frame))
        return unread.count

    async def ping(self) -> None:
        """Wait for the server to answer a ``ping``."""
        pong: Pong = await self._request({"type": "ping"})
        del pong

    # -- internals: requests ----------------------------------------------------------------

    def _check_running(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._closing or self._runner is None:
            raise ClientClosed("closed", "The client is not connected: use 'async with' or connect().")

    def _next_ref(self, kind: str) -> str:
        self._refs += 1
        return f"{kind}:{self._refs}"

    async def _request(self, frame: dict[str, Any], *, ref: str | None = None) -> Any:
        """Send ``frame`` with a ``ref`` and wait for the reply carrying it; resent after reconnects
        and retryable errors until answered."""
        self._check_running()
        ref = ref or self._next_ref(frame["type"])
        existing = self._requests.get(ref)
        if existing is not None:  # the same send again: wait for the same ack
            return await asyncio.shield(existing.future)
        frame["ref"] = ref
        request = _Request(frame=frame, future=asyncio.get_running_loop().create_future())
        self._requests[ref] = request
        self._transmit(frame)
        try:
            return await asyncio.shield(request.future)
        finally:
            if request.future.done():
                self._requests.pop(ref, None)

    def _transmit(self, frame: dict[str, Any]) -> None:
        """Queue ``frame`` for the open socket; without one it is dropped (requests are resent on
        the next connection)."""
        if self._outbox is not None:
            self._outbox.put_nowait(json.dumps(frame, ensure_ascii=False))

    def _retry_later(self, request: _Request, error: Error) -> None:
        request.tries += 1
        delay = _retry_delay(error, request.tries, self.backoff_base, self.backoff_cap)
        if request.timer is not None:
            request.timer.cancel()
        request.timer = asyncio.get_running_loop().call_later(delay, self._retry_now, request)

    def _retry_now(self, request: _Request) -> None:
        request.timer = None
        if not request.future.done():
            self._transmit(request.frame)

    def _answer(self, ref: str, value: Any) -> bool:
        """Resolve the request with ``ref``; whether there was one."""
        request = self._requests.pop(ref, None)
        if request is None:
            return False
        if request.timer is not None:
            request.timer.cancel()
        if not request.future.done():
            if isinstance(value, BaseException):
                request.future.set_exception(value)
            else:
                request.future.set_result(value)
        return True

    # -- internals: rooms -------------------------------------------------------------------

    def _send_subscribe(self, state: _Room) -> None:
        state.live = False
        state.gap = None
        state.sub_ref = self._next_ref(f"subscribe:{state.slug}")
        frame = frames.Subscribe(type="subscribe", room=state.slug, ref=state.sub_ref)
        if state.last_seq is not None:
            frame["since"] = state.last_seq
        self._transmit(dict(frame))

    def _cancel_room_timers(self, state: _Room) -> None:
        if state.sub_timer is not None:
            state.sub_timer.cancel()
            state.sub_timer = None

    def _room_by_sub_ref(self, ref: str) -> _Room | None:
        return next((state for state in self._rooms.values() if state.sub_ref == ref), None)

    def _on_subscribed(self, state: _Room, frame: Subscribed) -> None:
        state.live = True
        state.sub_tries = 0
        if state.last_seq is None:
            state.last_seq = frame.head
        for waiter in state.waiters:
            if not waiter.done():
                waiter.set_result(frame)
        state.waiters.clear()
        self._flush(state)

    def _on_subscribe_error(self, state: _Room, error: Error) -> None:
        if error.code in RETRYABLE:
            state.sub_tries += 1
            delay = _retry_delay(error, state.sub_tries, self.backoff_base, self.backoff_cap)
            state.sub_timer = asyncio.get_running_loop().call_later(delay, self._resubscribe, state)
            return
        self._lose_room(state, error.code, error.detail, error_from_frame(error))

    def _resubscribe(self, state: _Room) -> None:
        state.sub_timer = None
        if self._rooms.get(state.slug) is state and self._outbox is not None:
            self._send_subscribe(state)

    def _lose_room(self, state: _Room, code: str, detail: str, error: ParleyError) -> None:
        """Stop following a room the server refused or took away; tell whoever waits."""
        if self._rooms.get(state.slug) is state:
            del self._rooms[state.slug]
        self._cancel_room_timers(state)
        had_waiters = bool(state.waiters)
        for waiter in state.waiters:
            if not waiter.done():
                waiter.set_exception(error)
        state.waiters.clear()
        if not had_waiters:
            self._emit(RoomLost(room=state.slug, code=code, detail=detail))

    def _on_message(self, message: Message) -> None:
        state = self._rooms.get(message.room)
        if state is None:
            return
        if state.last_seq is None:  # nothing delivered and no head known yet: start here
            state.last_seq = message.seq - 1
        if message.seq <= state.last_seq:
            return  # delivered already (a replay overlapping what arrived live)
        state.ahead.setdefault(message.seq, message)
        self._flush(state)

    def _flush(self, state: _Room) -> None:
        """Deliver the messages that follow the last one delivered; ask ``history`` for a gap."""
        assert state.last_seq is not None
        while state.last_seq + 1 in state.ahead:
            state.last_seq += 1
            self._messages.put_nowait(state.ahead.pop(state.last_seq))
        if state.ahead and state.gap is None and state.live:
            self._fetch_gap(state)

    def _fetch_gap(self, state: _Room) -> None:
        """Ask for the oldest page missing between the last delivered seq and the first held."""
        assert state.last_seq is not None
        low = state.last_seq + 1
        before = min(min(state.ahead), low + HISTORY_PAGE)
        ref = self._next_ref(f"gap:{state.slug}")
        state.gap = (ref, before)
        frame = frames.History(type="history", room=state.slug, before=before, limit=before - low, ref=ref)
        self._transmit(dict(frame))

    def _room_by_gap_ref(self, ref: str) -> _Room | None:
        return next((state for state in self._rooms.values() if state.gap and state.gap[0] == ref), None)

    def _on_gap_page(self, state: _Room, page: HistoryPage) -> None:
        assert state.gap is not None
        assert state.last_seq is not None
        _, before = state.gap
        state.gap = None
        state.gap_tries = 0
        for item in page.messages:
            if state.last_seq < item.seq < before:
                state.ahead.setdefault(item.seq, _message(item))
        # Whatever the page held, it was the whole range asked for: a seq it lacks does not
        # exist for this reader, and waiting for it would stop the room for good.
        for seq in range(state.last_seq + 1, before):
            message = state.ahead.pop(seq, None)
            if message is not None:
                self._messages.put_nowait(message)
        state.last_seq = max(state.last_seq, before - 1)
        self._flush(state)

    def _on_gap_error(self, state: _Room, error: Error) -> None:
        assert state.gap is not None
        state.gap = None
        if error.code in RETRYABLE:
            state.gap_tries += 1
            delay = _retry_delay(error, state.gap_tries, self.backoff_base, self.backoff_cap)
            asyncio.get_running_loop().call_later(delay, self._refetch_gap, state)
            return
        logger.warning("could not fill a gap in %s (%s: %s)", state.slug, error.code, error.detail)

    def _refetch_gap(self, state: _Room) -> None:
        if self._rooms.get(state.slug) is state and state.live and state.gap is None and state.ahead:
            self._fetch_gap(state)

    # -- internals: frames ------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        for stream in list(self._streams):
            stream._offer(event)

    def _handle(self, data: dict[str, Any]) -> None:
        """Act on one frame from the server."""
        cls = frames.SERVER_FRAMES.get(str(data.get("type")))
        if cls is None:
            return  # a frame type newer than this client
        try:
            frame = cls.from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            logger.warning("ignored a %s frame this client cannot read: %r", cls.TYPE, data)
            return
        ref = data.get("ref")
        ref = None if ref is None else str(ref)
        if not isinstance(frame, Error):
            self._healthy = True
        handler: Callable[[Any, str | None], None] | None = getattr(self, f"_frame_{frame.TYPE}", None)
        if handler is not None:
            handler(frame, ref)
        elif ref is not None:
            self._answer(ref, frame)  # a reply: the frame about the same change comes without ref
        else:
            self._emit(frame)  # type: ignore[arg-type]

    def _frame_message(self, frame: Message, ref: str | None) -> None:
        self._on_message(frame)

    def _frame_subscribed(self, frame: Subscribed, ref: str | None) -> None:
        state = self._rooms.get(frame.room)
        if state is not None and ref is not None and ref == state.sub_ref:
            self._on_subscribed(state, frame)

    def _frame_unsubscribed(self, frame: Unsubscribed, ref: str | None) -> None:
        if ref is not None:
            self._answer(ref, None)
            return
        # No ref: the server took the room away, right after an error saying why.
        state = self._rooms.get(frame.room)
        if state is not None:
            last = self._last_error
            code, detail = (last.code, last.detail) if last else ("forbidden", "The server removed you from the room.")
            self._lose_room(state, code, detail, error_from_frame(Error(code=code, detail=detail)))

    def _frame_history(self, frame: HistoryPage, ref: str | None) -> None:
        if ref is None:
            return
        state = self._room_by_gap_ref(ref)
        if state is not None:
            self._on_gap_page(state, frame)
        else:
            self._answer(ref, frame)

    def _frame_notification(self, frame: frames.Notification, ref: str | None) -> None:
        if frame.id <= self._notification_seen:
            return  # replayed after a reconnect, seen before it
        self._notification_seen = frame.id
        self._emit(frame)

    def _frame_error(self, frame: Error, ref: str | None) -> None:
        if ref is None:
            self._last_error = frame
            if frame.retry_after is not None:  # a handshake or socket over its limit: closing
                self._reconnect_after = frame.retry_after
            return
        state = self._room_by_sub_ref(ref)
        if state is not None:
            self._on_subscribe_error(state, frame)
            return
        state = self._room_by_gap_ref(ref)
        if state is not None:
            self._on_gap_error(state, frame)
            return
        request = self._requests.get(ref)
        if request is None:
            return
        if frame.code in RETRYABLE:
            self._retry_later(request, frame)
        else:
            self._answer(ref, error_from_frame(frame))

    # -- internals: the connection ----------------------------------------------------------

    def _set_state(self, state: State, *, retry_in: float | None = None, close_code: int | None = None) -> None:
        self.state = state
        self._emit(ConnectionState(state=state, retry_in=retry_in, close_code=close_code))

    async def _run(self) -> None:
        """Connect, serve the socket until it closes, wait, and connect again, until closed."""
        attempt = 0
        try:
            while not self._closing:
                close_code = await self._connect_once()
                if self._closing:
                    break
                if self._healthy:
                    attempt = 0
                delay = max(full_jitter(attempt, base=self.backoff_base, cap=self.backoff_cap), self._reconnect_after)
                self._reconnect_after = 0.0
                attempt += 1
                self._set_state("reconnecting", retry_in=delay, close_code=close_code)
                await asyncio.sleep(delay)
        except ParleyError as error:
            self._stop(error)
        except Exception:
            # A bug here must not leave callers waiting on a client that no longer runs.
            logger.exception("the Parley client stopped on an unexpected error")
            self._stop(ParleyError("internal", "The client stopped on an unexpected error; see its log."))

    async def _connect_once(self) -> int | None:
        """One connection, from handshake to close; the close code, if any."""
        self._healthy = False
        try:
            socket = await connect(
                self.url,
                additional_headers=self._headers,
                user_agent_header=f"parley-client/{__version__}",
                open_timeout=self.open_timeout,
                ping_interval=self.ping_interval,
                close_timeout=2,
                max_size=2**24,
            )
        except InvalidStatus as error:
            status = error.response.status_code
            if 400 <= status < 500 and status not in (408, 429):
                raise HandshakeRefused("refused", f"The server refused the handshake with HTTP {status}.") from error
            logger.info("handshake failed with HTTP %s; reconnecting", status)
            return None
        except (OSError, TimeoutError, InvalidHandshake) as error:
            logger.info("could not connect to %s (%s); reconnecting", self.url, error)
            return None
        self._connection_number += 1
        outbox: asyncio.Queue[str] = asyncio.Queue()
        self._socket, self._outbox = socket, outbox
        writer = asyncio.create_task(_write(socket, outbox))
        self._set_state("open")
        assert self._opened is not None
        self._opened.set()
        self._on_open()
        try:
            async for text in socket:
                try:
                    data = json.loads(text)
                except ValueError:
                    continue
                if isinstance(data, dict):
                    self._handle(data)
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            self._socket, self._outbox = None, None
            self._on_close()
        code = socket.close_code
        if code == CLOSE_UNAUTHORIZED:
            detail = self._last_error.detail if self._last_error else "The server closed the socket with 4401."
            raise Unauthorized("unauthorized", detail, close_code=code)
        if code == CLOSE_RATE_LIMITED and self._reconnect_after == 0:
            self._reconnect_after = self.backoff_cap
        return code

    def _on_open(self) -> None:
        """A new socket: follow every room again from where it stopped, resend what waits."""
        self._last_error = None
        for state in self._rooms.values():
            self._cancel_room_timers(state)
            self._send_subscribe(state)
        if self._notifications_followed:
            frame = frames.Notifications(
                type="notifications", since=self._notification_seen, ref=self._next_ref("renotify")
            )
            self._transmit(dict(frame))
        for request in self._requests.values():
            if request.timer is not None:
                request.timer.cancel()
                request.timer = None
            self._transmit(request.frame)

    def _on_close(self) -> None:
        for state in self._rooms.values():
            state.live = False
            state.gap = None
            self._cancel_room_timers(state)
        for request in self._requests.values():
            if request.timer is not None:
                request.timer.cancel()
                request.timer = None

    def _stop(self, error: ParleyError) -> None:
        """End for good: fail what waits, end the iterators."""
        if self._failure is None:
            self._failure = error
        for request in list(self._requests.values()):
            if request.timer is not None:
                request.timer.cancel()
            if not request.future.done():
                request.future.set_exception(error)
        self._requests.clear()
        for state in self._rooms.values():
            self._cancel_room_timers(state)
            for waiter in state.waiters:
                if not waiter.done():
                    waiter.set_exception(error)
            state.waiters.clear()
        if self.state != "closed":
            self._set_state("closed")
        self._messages.put_nowait(_END)
        for stream in list(self._streams):
            stream._offer(_END)
        self._streams.clear()


async def _write(socket: ClientConnection, outbox: asyncio.Queue[str]) -> None:
    """Send queued frames in order until the socket closes."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await socket.send(await outbox.get())


def _retry_delay(error: Error, tries: int, base: float, cap: float) -> float:
    """How long to wait before sending a refused frame again: the server's ``retry_after`` (plus a
    little jitter, so that refused clients do not return at once), else the back-off."""
    if error.retry_after is not None:
        return error.retry_after + random.uniform(0, 0.1)
    return full_jitter(tries, base=base, cap=cap)


def _message(item: frames.MessageData) -> Message:
    """A history page's message as the ``Message`` frames ``messages()`` yields: the same fields,
    whatever the protocol adds to both (both are generated from the schema)."""
    return Message(**{each.name: getattr(item, each.name) for each in fields(Message)})


def _with_name(url: str, name: str | None) -> str:
    """``url`` with a guest's ``?name=`` added."""
    if name is None:
        return url
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode({"name": name})) if part)
    return urlunsplit(parts._replace(query=query))
