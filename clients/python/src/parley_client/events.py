"""Events the client itself raises, beside the server's frames, on ``ParleyClient.events()``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from parley_client.frames import FrameEvent

State = Literal["connecting", "open", "reconnecting", "closed"]


@dataclass(frozen=True, kw_only=True)
class ConnectionState:
    """The connection changed state: ``connecting`` (the first time), ``open``, ``reconnecting``
    (the socket was lost and the client waits ``retry_in`` seconds), or ``closed`` (for good)."""

    state: State
    # Seconds until the next attempt, while reconnecting.
    retry_in: float | None = None
    # The close code of the socket that was lost, when it had one.
    close_code: int | None = None


@dataclass(frozen=True, kw_only=True)
class RoomLost:
    """The server took a room away (a ban, a removal from a private room) or refused to resubscribe
    to it after a reconnect: the client no longer follows it. ``code`` and ``detail`` say why."""

    room: str
    code: str
    detail: str


# Everything ``events()`` yields: the server frames it passes on (``FrameEvent``, generated from the
# protocol's server frame types) and the client's own events.
Event = FrameEvent | ConnectionState | RoomLost
