"""Server-side publish: a backend (Django or not) stores and delivers messages and notifications.

``POST /api/publish`` with the token of a user holding ``parley.publish_messages`` (staff, by
default), in the manner of Centrifugo's server API or Pusher's trigger: ``{"rooms": [...],
"message": {"body": ...}}`` posts a message to each room (one the publisher may post in),
``{"users": [...], "notification": {"kind": ..., "data": {...}}}`` notifies each user; one call may
do both. Everything is checked before anything is stored, and all of it is stored in one
transaction: a call that fails stores nothing and delivers nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from parley.accounts.identity import Identity
from parley.accounts.permissions import PUBLISH_MESSAGES
from parley.accounts.selectors import users_by_username
from parley.api.auth import caller
from parley.api.errors import error_responses
from parley.api.idempotency import client_id_from_header, idempotency_key_header
from parley.api.schemas import NOT_BLANK_PATTERN, JsonBody, MessageBody, Username
from parley.notifications.services import KIND_MAX_LENGTH, notify
from parley.rooms.services import PostResult, message_broadcast
from parley.wire.errors import ParleyError
from parley.wire.text import Slug, validate_body

router = Router(tags=["publish"])


class PublishMessage(JsonBody):
    body: MessageBody


class PublishNotification(JsonBody):
    kind: Annotated[str, StringConstraints(pattern=NOT_BLANK_PATTERN)] = Field(
        min_length=1, max_length=KIND_MAX_LENGTH, description="What happened, e.g. 'order.status'."
    )
    data: dict[str, Any] = Field(default={}, description="Details for the recipient's client, any JSON object.")

    @field_validator("data")
    @classmethod
    def _storable(cls, data: dict[str, Any]) -> dict[str, Any]:
        # PostgreSQL stores JSON as UTF-8 text without NUL: refuse what it would refuse, with a sentence.
        text = json.dumps(data, ensure_ascii=False)
        if "\\u0000" in text:
            raise ValueError("must not contain NUL characters")
        try:
            text.encode()
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode (it contains a lone surrogate)") from None
        return data


class PublishIn(JsonBody):
    """A message for rooms, a notification for users, or both."""

    model_config = ConfigDict(
        json_schema_extra={
            "dependentRequired": {
                "rooms": ["message"],
                "message": ["rooms"],
                "users": ["notification"],
                "notification": ["users"],
            },
            "anyOf": [{"required": ["rooms"]}, {"required": ["users"]}],
        }
    )

    # Optional, but never null in the schema: leave a part out instead.
    rooms: list[Slug] = Field(
        default=None,  # type: ignore[arg-type]
        min_length=1,
        max_length=100,
        description="Slugs of the rooms to post the message in.",
    )
    message: PublishMessage = Field(default=None, description="The message; required with 'rooms'.")  # type: ignore[assignment]
    users: list[Username] = Field(
        default=None,  # type: ignore[arg-type]
        min_length=1,
        max_length=1000,
        description="Usernames to notify.",
    )
    notification: PublishNotification = Field(default=None, description="The notification; required with 'users'.")  # type: ignore[assignment]

    @model_validator(mode="after")
    def _complete(self) -> PublishIn:
        if (self.rooms is None) != (self.message is None):
            raise ValueError("Give 'rooms' and 'message' together (or neither)")
        if (self.users is None) != (self.notification is None):
            raise ValueError("Give 'users' and 'notification' together (or neither)")
        if self.rooms is None and self.users is None:
            raise ValueError("Give 'rooms' with a 'message', 'users' with a 'notification', or both")
        return self


class PublishedMessage(Schema):
    room: str = Field(description="The room's slug.")
    id: int = Field(description="The stored message's id.")
    seq: int = Field(description="The stored message's seq in its room.")
    created: bool = Field(description="False when an earlier call with the same Idempotency-Key stored it.")


class PublishedNotification(Schema):
    user: str = Field(description="The recipient's username.")
    id: int = Field(description="The stored notification's id.")


class PublishOut(Schema):
    """What the call stored, per room and per user."""

    messages: list[PublishedMessage]
    notifications: list[PublishedNotification]


@dataclass(frozen=True)
class Published:
    messages: list[PostResult]
    notifications: list[tuple[str, int]]


@transaction.atomic
def publish_store(
    *,
    sender: Identity,
    slugs: list[str],
    body: str,
    client_id: str,
    usernames: list[str],
    kind: str,
    data: dict[str, Any],
) -> Published:
    """Post ``body`` to every room of ``slugs`` and notify every user of ``usernames``, all or nothing.

    Raises ``ParleyError``: not_found naming the first unknown user or a missing room, invalid for a
    bad kind; the transaction then stores nothing.
    """
    users = users_by_username(usernames=usernames)
    for username in usernames:
        if username not in users:
            raise ParleyError("not_found", f"There is no active user {username!r}; nothing was published.")
    messages = message_broadcast(slugs=slugs, sender=sender, body=body, client_id=client_id) if slugs else []
    notifications: list[tuple[str, int]] = []
    if usernames:
        by_id = {user.pk: name for name, user in users.items()}
        notifications = [(by_id[n.recipient_id], n.pk) for n in notify(users.values(), kind, data)]
    return Published(messages=messages, notifications=notifications)


@router.post(
    "/publish",
    response={201: PublishOut, 200: PublishOut, **error_responses(403, 404, 413)},
    operation_id="publish",
    summary="Publish messages and notifications from a backend (parley.publish_messages)",
)
def publish(
    request: HttpRequest,
    payload: PublishIn,
    idempotency_key: Annotated[
        str | None,
        idempotency_key_header(
            "Makes the message part safe to retry: the same key stores no new message in a room "
            "that has it (notifications are sent again)."
        ),
    ] = None,
) -> Status[PublishOut]:
    """Stores and delivers the message in every room (its author is you) and the notification to every
    user, in one transaction: an unknown room or user (404) stores nothing. Needs the
    ``parley.publish_messages`` permission, which staff hold by default (403 otherwise).
    Answers 201, or 200 when nothing new was stored (a retried message and no notification)."""
    identity = caller(request)
    if not identity.can(PUBLISH_MESSAGES):
        raise ParleyError(
            "forbidden",
            "Publishing takes the 'parley.publish_messages' permission (staff hold it); use such a user's "
            "token ('manage.py issuetoken NAME --staff').",
        )
    body = validate_body(payload.message.body) if payload.message is not None else ""
    notification = payload.notification
    published = publish_store(
        sender=identity,
        slugs=list(dict.fromkeys(payload.rooms or [])),
        body=body,
        client_id=client_id_from_header(idempotency_key),
        usernames=list(dict.fromkeys(payload.users or [])),
        kind=notification.kind if notification is not None else "",
        data=notification.data if notification is not None else {},
    )
    out = PublishOut(
        messages=[
            PublishedMessage(room=r.message.room.slug, id=r.message.pk, seq=r.message.seq, created=r.created)
            for r in published.messages
        ],
        notifications=[PublishedNotification(user=user, id=pk) for user, pk in published.notifications],
    )
    stored_anything = published.notifications or any(r.created for r in published.messages)
    return Status(201 if stored_anything else 200, out)
