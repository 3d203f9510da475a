"""User feeds: each user this process follows, and each socket's inbox of that user's
notifications and unread counts."""

from __future__ import annotations

from collections import deque
from typing import Any

from parley.monitoring.metrics import FRAMES_OUT, REPAIRED
from parley.realtime.hub.encoding import encode_json
from parley.realtime.hub.outbox import Outbox


class RecentIds:
    """The last ``size`` ids seen, for dropping a notification that was already sent."""

    __slots__ = ("_order", "_seen", "size")

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._order: deque[int] = deque()
        self._seen: set[int] = set()

    def add(self, value: int) -> bool:
        """Remember ``value``; False if it was already remembered."""
        if value in self._seen:
            return False
        self._seen.add(value)
        self._order.append(value)
        if len(self._order) > self.size:
            self._seen.discard(self._order.popleft())
        return True

    def __contains__(self, value: int) -> bool:
        return value in self._seen


class Inbox:
    """One socket's share of its user's events: notifications and unread counts.

    Notification ids are not contiguous per user (they are global ids), so unlike a room stream
    the inbox drops repeats by remembering what it sent. While the socket's replay is read
    (``hold``), live notifications wait, and are sent afterwards unless the replay had them.
    """

    __slots__ = ("_held", "_sent", "outbox", "user_id")

    def __init__(self, user_id: int, outbox: Outbox) -> None:
        self.user_id = user_id
        self.outbox = outbox
        self._sent: RecentIds | None = None  # made on the first notification: most sockets never get one
        self._held: list[tuple[int, str]] | None = None

    def offer(self, notification_id: int, text: str) -> None:
        """Send a notification frame unless this socket has had it."""
        if self._held is not None:
            self._held.append((notification_id, text))
        elif self.sent.add(notification_id):
            self.outbox.push(text)

    @property
    def sent(self) -> RecentIds:
        """The notifications this socket was given lately."""
        if self._sent is None:
            self._sent = RecentIds()
        return self._sent

    def replayed(self, notification_id: int, text: str) -> None:
        """Send a notification read for the socket's replay (live ones may be held meanwhile)."""
        if self.sent.add(notification_id):
            self.outbox.push(text)

    def hold(self) -> None:
        """Keep live notifications aside while a replay is read."""
        if self._held is None:
            self._held = []

    def release(self) -> None:
        """Send what was kept aside (what the replay already sent is dropped)."""
        held, self._held = self._held or [], None
        for notification_id, text in held:
            self.offer(notification_id, text)


class UserFeed:
    """A user followed by this process: the inboxes of their local sockets.

    ``watermark`` is the newest notification id the head sweep has seen stored for the user: every
    notification up to it has been given to the inboxes, from the layer or from storage. Because
    ``notify`` stores each user's notifications in id order, none can appear below it later.
    """

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.inboxes: set[Inbox] = set()
        self.watermark: int | None = None
        self._delivered = RecentIds()

    def notification(self, data: dict[str, Any], unread: int | None) -> None:
        """A notification from the layer or from storage: to every inbox, once."""
        notification_id = int(data["id"])
        # Not below the watermark (the sweep read it from storage already), and not twice.
        if (self.watermark is None or notification_id > self.watermark) and self._delivered.add(notification_id):
            text = encode_json({"type": "notification", **data})
            for inbox in self.inboxes:
                inbox.offer(notification_id, text)
            FRAMES_OUT.inc(len(self.inboxes))
        if unread is not None:
            # Only the layer's event carries the count: when the sweep won the race and delivered
            # the notification from storage, the count must still go out.
            self.unread(unread)

    def unread(self, count: int) -> None:
        self.frame({"type": "notifications_unread", "count": count})

    def frame(self, frame: dict[str, Any]) -> None:
        """A frame for every socket of the user, encoded once."""
        text = encode_json(frame)
        for inbox in self.inboxes:
            inbox.outbox.push(text)

    def catch_up(self, newest: int, rows: list[dict[str, Any]]) -> None:
        """The sweep's reading: deliver what the layer did not, then move the watermark."""
        for row in rows:
            self.notification(row, None)
        if rows:
            REPAIRED.inc(len(rows))
        self.watermark = max(newest, self.watermark or 0)
