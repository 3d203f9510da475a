"""Encoded events: every server frame's compact JSON, and a stored message encoded at most once
per protocol, on its way to many sockets."""

from __future__ import annotations

import json
from typing import Any, Literal

from parley.realtime.uvicorn_compat import text_frame

Format = Literal["v1", "tutorial"]


def encode_json(data: dict[str, Any]) -> str:
    """The compact JSON every server frame is written in."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def message_frame_json(data: dict[str, Any]) -> str:
    """A protocol v1 ``message`` frame for a message in its wire shape."""
    return encode_json({"type": "message", **data})


class RoomEvent:
    """One stored message on its way to the sockets, encoded at most once per protocol."""

    __slots__ = ("_encoded", "data", "seq")

    def __init__(self, seq: int, data: dict[str, Any]) -> None:
        self.seq = seq
        self.data = data
        self._encoded: dict[Format, tuple[str, int, bytes]] = {}

    def encoded(self, fmt: Format) -> tuple[str, int, bytes]:
        """The frame text for ``fmt``, its size in bytes, and the whole WebSocket frame."""
        cached = self._encoded.get(fmt)
        if cached is None:
            text = message_frame_json(self.data) if fmt == "v1" else encode_json({"message": self.data["body"]})
            frame = text_frame(text)
            cached = self._encoded[fmt] = (text, len(frame), frame)
        return cached


class EventBatch:
    """Consecutive stored messages that became deliverable together: a backlog read from storage,
    or events that waited for a missing one. Each protocol's frames are joined into one buffer, so
    a socket gets the whole run in one write instead of a write per message.

    A hub that falls behind (at saturation, say) catches up this way: writing the run of 50
    messages that a repair read to 1,000 sockets takes 1,000 writes, not 50,000.
    """

    __slots__ = ("_joined", "events")

    def __init__(self, events: list[RoomEvent]) -> None:
        self.events = events
        self._joined: dict[Format, bytes] = {}

    def joined(self, fmt: Format) -> bytes:
        """Every event's whole WebSocket frame for ``fmt``, back to back."""
        joined = self._joined.get(fmt)
        if joined is None:
            joined = self._joined[fmt] = b"".join(event.encoded(fmt)[2] for event in self.events)
        return joined
