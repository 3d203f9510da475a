"""Every frame a test receives from a socket, and every event a test publishes, checked against
protocol v1's models: Zulip checks each event an action sends against its schema, and so does this.

A server frame must be one of ``parley.wire.frames``'s ``ServerFrame`` models, with values
of the types the model gives (strictly: ``"1"`` is not a number) and exactly the fields the
model's own ``to_json`` would write: none missing, none extra, ``ref`` and ``retry_after`` only
when they have a value; and valid by the clients' JSON Schema (``clients/protocol/``).
``docs/protocol.md`` and that schema are generated from those models, so neither can drift from
what the server sends while the suite passes.

The article's protocol (``/ws/chat/<room>/``) has one frame of its own, ``{"message": s}``; the
page also gets protocol v1's ``error`` frames. Events have no models in ``parley``: their shapes
are written down here, one model per event type, and every frame an event turns into on a
socket is checked as a frame.
"""

from __future__ import annotations

import functools
import json
import re
import typing
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parley.events import publish as events
from parley.wire import frames
from parley.wire.schema import protocol_schema

Frame = dict[str, Any]


class FrameMismatch(AssertionError):
    """A frame or an event that is not what its model says."""


def _leaf_models(base: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every subclass of ``base`` whose ``type`` is a ``Literal``, by that literal."""
    models: dict[str, type[BaseModel]] = {}
    pending = [base]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        for name in typing.get_args(model.model_fields["type"].annotation):
            if models.get(name, model) is not model:
                raise TypeError(f"two models for type {name!r}: {models[name]} and {model}")
            models[name] = model
    return models


def server_frame_models() -> dict[str, type[frames.ServerFrame]]:
    """Every server → client frame type and its model, read from the protocol module."""
    return _leaf_models(frames.ServerFrame)  # type: ignore[return-value]


SERVER_FRAME_MODELS = server_frame_models()


@functools.cache
def schema_validator(definition: str) -> jsonschema.Draft202012Validator:
    """A validator for one definition of the clients' JSON Schema (``ServerFrame``, ``ClientFrame``…)."""
    schema = protocol_schema()
    return jsonschema.Draft202012Validator({**schema, "$ref": f"#/$defs/{definition}"})


def check_frame(frame: object) -> Frame:
    """``frame`` (decoded JSON) if it is a protocol v1 server frame exactly as its model writes
    it; otherwise ``FrameMismatch`` says what is wrong."""
    if not isinstance(frame, dict):
        raise FrameMismatch(f"a server frame must be a JSON object, not {frame!r}")
    model = SERVER_FRAME_MODELS.get(frame.get("type"))  # type: ignore[arg-type]
    if model is None:
        raise FrameMismatch(f"no server frame model has type {frame.get('type')!r}: {frame}")
    if next(iter(frame)) != "type":
        raise FrameMismatch(f"'type' must come first on the wire: {frame}")
    try:
        parsed = model.model_validate(frame, strict=True)
    except ValidationError as error:
        raise FrameMismatch(f"not a valid {model.__name__} frame: {frame}\n{error}") from None
    written = json.loads(parsed.to_json())
    if written != frame:
        raise FrameMismatch(f"{model.__name__} writes {written}, the frame is {frame}: {_difference(written, frame)}")
    problem = jsonschema.exceptions.best_match(schema_validator(model.__name__).iter_errors(frame))
    if problem is not None:
        raise FrameMismatch(f"not a valid {model.__name__} by the clients' JSON Schema: {frame}\n{problem.message}")
    return frame


def _difference(written: Frame, frame: Frame) -> str:
    extra = sorted(set(frame) - set(written))
    missing = sorted(set(written) - set(frame))
    differing = sorted(key for key in set(frame) & set(written) if frame[key] != written[key])
    return f"fields not in the model {extra}, missing {missing}, differing {differing}"


def sample_message_frame(**fields: Any) -> Frame:
    """A valid ``message`` frame (alice's "hi", seq 1 of lobby) with ``fields`` changed."""
    return {
        "type": "message",
        "room": "lobby",
        "seq": 1,
        "id": 7,
        "author": {"id": 1, "name": "alice", "guest": False},
        "body": "hi",
        "created_at": "2026-01-01T00:00:00Z",
        "client_id": "c1",
        "edited_at": None,
        "deleted": False,
        "reactions": {},
        "mine": [],
        "reply_to": None,
        "thread_count": 0,
        "attachments": [],
        **fields,
    }


def check_tutorial_frame(frame: object) -> Frame:
    """``frame`` if it is a frame of the article's protocol: ``{"message": s}``, or an ``error``."""
    if isinstance(frame, dict) and frame.get("type") == "error":
        return check_frame(frame)
    if not isinstance(frame, dict) or set(frame) != {"message"} or not isinstance(frame["message"], str):
        raise FrameMismatch(f'the article\'s protocol sends {{"message": s}} or an error frame, not {frame!r}')
    return frame


# Parley's article endpoint, under whatever prefix the host mounts it (``/chat/ws/chat/lobby/``).
_TUTORIAL_PATH = re.compile(r"/ws/chat/[A-Za-z0-9_-]{1,64}/$")


def speaks_tutorial(url: str) -> bool:
    """Whether a socket at ``url`` (a path or a whole URL) speaks the article's protocol."""
    return bool(_TUTORIAL_PATH.search(urlsplit(url).path))


def received_frame(text: str | bytes, *, tutorial: bool = False) -> Frame:
    """A text frame a socket received, decoded and checked (as the article's protocol when ``tutorial``)."""
    if not isinstance(text, str):
        raise FrameMismatch(f"the server sent a binary frame: {text!r}")
    try:
        frame = json.loads(text)
    except ValueError:
        raise FrameMismatch(f"the server sent a text frame that is not JSON: {text!r}") from None
    return check_tutorial_frame(frame) if tutorial else check_frame(frame)


# --- events ------------------------------------------------------------------------------------


class Event(BaseModel):
    """An event on the channel layer: its fields, the group it goes to, the frames it becomes."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    type: str

    def group(self) -> str:
        raise NotImplementedError

    def frames(self) -> list[Frame]:
        """The protocol v1 frames the hubs write to sockets for this event."""
        return []


class RoomEvent(Event):
    """An event for the hubs following a room."""

    room_id: int

    def group(self) -> str:
        return events.room_group(self.room_id)


class UserEvent(Event):
    """An event for the hubs with a socket of a user."""

    user_id: int

    def group(self) -> str:
        return events.user_group(self.user_id)


class SignInEvent(Event):
    """An event that ends sign-ins, for every hub."""

    user_id: int

    def group(self) -> str:
        return events.TOKENS_GROUP


class RoomMessage(RoomEvent):
    type: Literal[events.ROOM_MESSAGE]
    seq: int
    message: dict[str, Any]
    stored_at: float

    def frames(self) -> list[Frame]:
        if self.message.get("seq") != self.seq:
            raise FrameMismatch(f"a room.message event's seq {self.seq} is not its message's: {self.message}")
        return [{"type": "message", **self.message}]


class RoomFrame(RoomEvent):
    type: Literal[events.ROOM_FRAME]
    frame: dict[str, Any]
    exclude: str | None
    personal: dict[str, dict[str, Any]] | None

    def frames(self) -> list[Frame]:
        personal = self.personal or {}
        return [self.frame, *({**self.frame, **own} for own in personal.values())]


class RoomsFrame(BaseModel):
    """One room's frame in a ``rooms.frames`` event."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    room_id: int
    frame: dict[str, Any]


class RoomsFrames(Event):
    type: Literal[events.ROOMS_FRAMES]
    frames_by_room: list[RoomsFrame] = Field(alias="frames")

    def group(self) -> str:
        return events.ROOMS_GROUP

    def frames(self) -> list[Frame]:
        return [entry.frame for entry in self.frames_by_room]


class RoomKick(RoomEvent):
    type: Literal[events.ROOM_KICK]
    user_id: int
    detail: str


class RoomClosed(RoomEvent):
    type: Literal[events.ROOM_CLOSED]
    readers: list[int]
    detail: str


class UserNotification(UserEvent):
    type: Literal[events.USER_NOTIFICATION]
    notification: dict[str, Any]
    unread: int

    def frames(self) -> list[Frame]:
        return [{"type": "notification", **self.notification}, {"type": "notifications_unread", "count": self.unread}]


class UserUnread(UserEvent):
    type: Literal[events.USER_UNREAD]
    unread: int

    def frames(self) -> list[Frame]:
        return [{"type": "notifications_unread", "count": self.unread}]


class UserFrame(UserEvent):
    type: Literal[events.USER_FRAME]
    frame: dict[str, Any]

    def frames(self) -> list[Frame]:
        return [self.frame]


class TokenRevoked(SignInEvent):
    type: Literal[events.TOKEN_REVOKED]
    token_id: int


class UserSignedOut(SignInEvent):
    type: Literal[events.USER_SIGNED_OUT]
    detail: str
    session_key: str | None
    session_hash: str | None


EVENT_MODELS: dict[str, type[Event]] = _leaf_models(Event)  # type: ignore[assignment]


def check_event(group: str, event: object) -> None:
    """Raise ``FrameMismatch`` unless ``event`` has its type's shape, goes to its type's group,
    and every frame it becomes on a socket is a valid server frame."""
    if not isinstance(event, dict):
        raise FrameMismatch(f"an event must be a dict, not {event!r}")
    model = EVENT_MODELS.get(event.get("type"))  # type: ignore[arg-type]
    if model is None:
        raise FrameMismatch(f"no event model has type {event.get('type')!r}: {event}")
    try:
        parsed = model.model_validate(event)
    except ValidationError as error:
        raise FrameMismatch(f"not a valid {event['type']} event: {event}\n{error}") from None
    if parsed.group() != group:
        raise FrameMismatch(f"a {event['type']} event went to {group!r}, not {parsed.group()!r}: {event}")
    for frame in parsed.frames():
        # Through JSON, as the channel layer and the socket carry it.
        check_frame(json.loads(json.dumps(frame)))


class CheckedPublish:
    """``parley.events.publish.publish`` with every event checked first (``check_event``).

    Events are published from worker threads and on-commit hooks, where an exception would be
    lost or change what the code under test does; so a mismatch is kept in ``mismatches`` (the
    ``conftest.py`` fixture fails the test with them at its end) and the event is sent as is.
    """

    def __init__(self, publish: Callable[..., None]) -> None:
        self.publish = publish
        self.mismatches: list[str] = []

    def __call__(self, group: str, event: dict[str, Any], **options: Any) -> None:
        try:
            check_event(group, event)
        except FrameMismatch as mismatch:
            self.mismatches.append(str(mismatch))
        self.publish(group, event, **options)
