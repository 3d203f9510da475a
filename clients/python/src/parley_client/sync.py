"""A blocking wrapper for scripts: the asyncio client runs on an event loop in a thread of its own.

    from parley_client.sync import ParleyClient

    with ParleyClient("ws://127.0.0.1:8000/ws/", token=token) as client:
        client.subscribe("lobby", since=0)
        ack = client.send("lobby", "beep")
        for message in client.messages(timeout=5):   # stops after 5 s without a message
            print(message.seq, message.author.name, message.body)

Every method blocks until the asyncio client's method returns and raises what it raises; it keeps
the same promise (reconnect, resume, resend), since the same client does the work.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from parley_client import client as aio
from parley_client.errors import ClientClosed
from parley_client.events import Event
from parley_client.frames import (
    Ack,
    AttachmentData,
    Message,
    MessageUpdated,
    NotificationsReplayed,
    Reactions,
    Subscribed,
    Unread,
)
from parley_client.uploads import FileSource

T = TypeVar("T")


class ParleyClient:
    """The blocking twin of ``parley_client.ParleyClient``; takes the same arguments.

    Use it as a context manager (``with ParleyClient(...) as client``), or call ``connect()`` and
    ``close()``; ``close()`` also stops the thread.
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="parley-client", daemon=True)
        self._thread.start()
        self._client: aio.ParleyClient = self._call(self._create(url, options))

    @staticmethod
    async def _create(url: str, options: dict[str, Any]) -> aio.ParleyClient:
        return aio.ParleyClient(url, **options)

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the client's loop and wait for its result."""
        if self._loop.is_closed() or not self._thread.is_alive():
            coroutine.close()
            raise ClientClosed("closed", "The client was closed.")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def __enter__(self) -> ParleyClient:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def state(self) -> str:
        """The connection's state: connecting, open, reconnecting or closed."""
        return self._client.state

    def connect(self) -> None:
        """Connect; blocks until the first socket is open (see the asyncio client's ``connect``)."""
        self._call(self._client.connect())

    def close(self) -> None:
        """Close the client, stop reconnecting, and stop the loop's thread."""
        if not self._thread.is_alive():
            return
        try:
            self._call(self._client.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            if not self._thread.is_alive():
                self._loop.close()

    def subscribe(self, room: str, *, since: int | None = None) -> Subscribed:
        """Follow ``room`` (``since``: replay the messages after that seq first)."""
        return self._call(self._client.subscribe(room, since=since))

    def unsubscribe(self, room: str) -> None:
        """Stop following ``room``."""
        self._call(self._client.unsubscribe(room))

    def send(
        self,
        room: str,
        body: str,
        *,
        client_id: str | None = None,
        reply_to: int | None = None,
        attachments: Sequence[int | AttachmentData] = (),
    ) -> Ack:
        """Post ``body`` to ``room`` (a reply with ``reply_to``, with ``attachments`` uploaded first);
        returns once it is stored (resent across reconnects)."""
        return self._call(
            self._client.send(room, body, client_id=client_id, reply_to=reply_to, attachments=attachments)
        )

    def upload(self, room: str, file: FileSource, *, filename: str | None = None) -> AttachmentData:
        """Upload ``file`` (a path or a binary file object) to ``room``, to attach to a ``send``."""
        return self._call(self._client.upload(room, file, filename=filename))

    def history(
        self, room: str, *, before: int | None = None, limit: int = 50, thread: int | None = None
    ) -> list[Message]:
        """A page of ``room``'s messages before ``before``, oldest first; with ``thread``, that
        message's thread (the original, then its replies)."""
        return self._call(self._client.history(room, before=before, limit=limit, thread=thread))

    def edit(self, room: str, seq: int, body: str) -> MessageUpdated:
        """Replace the body of your own message ``seq``."""
        return self._call(self._client.edit(room, seq, body))

    def delete(self, room: str, seq: int) -> MessageUpdated:
        """Delete message ``seq``."""
        return self._call(self._client.delete(room, seq))

    def react(self, room: str, seq: int, emoji: str, *, on: bool = True) -> Reactions:
        """Put ``emoji`` on message ``seq``, or take it off with ``on=False``."""
        return self._call(self._client.react(room, seq, emoji, on=on))

    def read(self, room: str, seq: int) -> Unread:
        """Move your read marker in ``room`` up to ``seq``."""
        return self._call(self._client.read(room, seq))

    def typing(self, room: str) -> None:
        """Tell the room's others you are typing."""
        self._call(self._client.typing(room))

    def notifications(self, *, since: int | None = None) -> NotificationsReplayed:
        """Replay your notifications after ``since`` as events, and resume them after reconnects."""
        return self._call(self._client.notifications(since=since))

    def notification_read(self, id: int | None = None, *, all: bool = False) -> int:
        """Mark notification ``id`` (or ``all``) read; returns the unread count."""
        return self._call(self._client.notification_read(id, all=all))

    def ping(self) -> None:
        """Wait for the server to answer a ping."""
        self._call(self._client.ping())

    def messages(self, *, timeout: float | None = None) -> Iterator[Message]:
        """Messages of every room subscribed, once each, in order; the loop ends when the client
        closes, or when no message arrives within ``timeout`` seconds (when given)."""
        while True:
            item = self._call(self._client._next_message(timeout))
            if item is None:
                return
            yield item

    def events(self, *kinds: type[Any], timeout: float | None = None) -> Iterator[Event]:
        """Events (as the asyncio client's ``events()``), from this call on; the loop ends when the
        client closes, or when none arrives within ``timeout`` seconds (when given)."""
        stream = self._call(self._open_stream(kinds))
        try:
            while True:
                event = self._call(stream._next(timeout))
                if event is None:
                    return
                yield event
        finally:
            if self._thread.is_alive():
                self._loop.call_soon_threadsafe(stream.close)

    async def _open_stream(self, kinds: tuple[type[Any], ...]) -> aio.EventStream:
        return self._client.events(*kinds)
