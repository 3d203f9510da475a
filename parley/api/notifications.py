"""Your notifications: read a page of them and mark them read."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field, model_validator

from parley.api.auth import caller
from parley.api.errors import error_responses
from parley.api.schemas import JsonBody
from parley.notifications.selectors import notifications_page, notifications_unread_count
from parley.notifications.services import notifications_mark_read
from parley.wire.frames import NotificationData
from parley.wire.text import MAX_SEQ

router = Router(tags=["notifications"])


class NotificationsQuery(Schema):
    before: int | None = Field(
        default=None, ge=0, le=MAX_SEQ, description="Only notifications with a smaller id (page back with the last id)."
    )
    limit: int = Field(default=50, ge=1, le=100, description="Page size, 1 to 100.")
    unread_only: bool = Field(default=False, description="Only unread notifications.")


class NotificationsPage(Schema):
    """A page of your notifications, newest first, and how many are unread."""

    notifications: list[NotificationData] = Field(description="Newest first.")
    unread: int = Field(description="How many of your notifications are unread.")


class MarkRead(JsonBody):
    """Which notifications to mark read: ``ids``, or ``all``: true."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["ids"]}, {"required": ["all"], "properties": {"all": {"const": True}}}]
        }
    )

    # No null in the schema: leave 'ids' out instead.
    ids: list[Annotated[int, Field(ge=1, le=MAX_SEQ)]] = Field(
        default=None,  # type: ignore[arg-type]
        min_length=1,
        max_length=1000,
        description="Notification ids; others' ids are ignored.",
    )
    all: bool = Field(default=False, strict=True, description="Mark every notification read instead.")

    @model_validator(mode="after")
    def _one_target(self) -> MarkRead:
        if (self.ids is None) == (not self.all):
            raise ValueError("Give either 'ids' (a list of notification ids) or 'all': true")
        return self


class Unread(Schema):
    unread: int = Field(description="How many of your notifications are unread now.")


@router.get(
    "/notifications",
    response={200: NotificationsPage, **error_responses()},
    operation_id="notifications_list",
    summary="Read a page of your notifications",
)
def notifications_list(request: HttpRequest, query: Query[NotificationsQuery]) -> NotificationsPage:
    """Newest first; live ones also arrive on your WebSocket as ``notification`` frames."""
    user_id = caller(request).user_id
    assert user_id is not None
    page = notifications_page(user_id=user_id, before=query.before, limit=query.limit, unread_only=query.unread_only)
    return NotificationsPage(
        notifications=[NotificationData(**row) for row in page], unread=notifications_unread_count(user_id=user_id)
    )


@router.post(
    "/notifications/read",
    response={200: Unread, **error_responses()},
    operation_id="notifications_mark_read",
    summary="Mark notifications read",
)
def notifications_read(request: HttpRequest, payload: MarkRead) -> Unread:
    """Mark some (``ids``) or all (``all``: true) of your notifications read; answers the unread count left.
    Every socket of yours is told the new count."""
    user_id = caller(request).user_id
    assert user_id is not None
    unread = notifications_mark_read(user_id=user_id, ids=payload.ids or [], everything=payload.all)
    return Unread(unread=unread)
