"""A thin test client for one WebSocket connection to a real Parley server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.frames import received_frame, speaks_tutorial

TIMEOUT = 5.0

Frame = dict[str, Any]


# Who is in a room and who is typing: frames that arrive whenever people come, go or type, so
# tests about something else skip them; tests about presence open clients with ``ignore=()``.
AMBIENT = ("presence", "presence_diff", "typing")


class Client:
    """One open socket: send frames, receive JSON frames with a timeout, see how it closed.

    Every frame received is checked against its model (``tests/frames.py``).
    """

    def __init__(self, socket: ClientConnection, ignore: tuple[str, ...] = AMBIENT) -> None:
        self.socket = socket
        self.ignore = ignore
        self.tutorial = socket.request is not None and speaks_tutorial(socket.request.path)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        token: str | None = None,
        cookie: str | None = None,
        origin: str | None = None,
    ) -> Client:
        """Complete a handshake with ``url``; refused handshakes raise ``InvalidStatus``."""
        headers: dict[str, str] = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if cookie is not None:
            headers["Cookie"] = cookie
        socket = await connect(
            url,
            origin=origin,
            additional_headers=headers,
            open_timeout=TIMEOUT,
            close_timeout=1,
            max_size=None,
        )
        return cls(socket)

    async def send(self, frame: Frame | str | bytes) -> None:
        """Send a dict as a JSON text frame, a str as a text frame, bytes as a binary frame."""
        await self.socket.send(json.dumps(frame) if isinstance(frame, dict) else frame)

    async def recv(self) -> Frame:
        """The next frame, decoded; fails if none arrives within ``TIMEOUT`` seconds."""
        try:
            text = await asyncio.wait_for(self.socket.recv(), TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"no frame arrived within {TIMEOUT} s") from None
        frame = received_frame(text, tutorial=self.tutorial)
        if frame.get("type") in self.ignore:
            return await self.recv()
        return frame

    async def recv_until(self, frame_type: str) -> list[Frame]:
        """Frames up to and including the first one of ``frame_type``."""
        frames: list[Frame] = []
        while not frames or frames[-1].get("type") != frame_type:
            frames.append(await self.recv())
        return frames

    async def request(self, frame: Frame | str | bytes) -> Frame:
        """Send ``frame`` and return the next frame (use where nothing else can arrive meanwhile)."""
        await self.send(frame)
        return await self.recv()

    async def closed(self) -> tuple[list[Frame], int | None]:
        """Read until the server closes the socket: the frames before the close, and its close code."""
        frames: list[Frame] = []
        try:
            while True:
                frames.append(await self.recv())
        except ConnectionClosed as closed:
            return frames, None if closed.rcvd is None else closed.rcvd.code

    async def close(self) -> None:
        await self.socket.close()


# The ``connect`` fixture: ``await connect(server, path="/ws/", token=…, cookie=…, origin=…, name=…)``.
Connect = Callable[..., Awaitable[Client]]
