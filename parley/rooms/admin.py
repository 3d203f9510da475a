from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from parley.accounts.users import name_lookup
from parley.rooms.models import Attachment, Membership, Message, MessageEdit, Room
from parley.rooms.services import room_delete


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["slug", "title", "is_private", "guests_allowed", "last_seq", "created_by", "created_at"]
    list_filter = ["is_private", "guests_allowed"]
    search_fields = ["slug", "title"]
    readonly_fields = ["last_seq", "created_at"]
    inlines = [MembershipInline]

    # Deleting goes through ``room_delete``: messages in batches and files after commit, where
    # Django's own delete would read a room's every message (and list each on the confirmation page).

    def delete_model(self, request: HttpRequest, obj: Room) -> None:
        room_delete(room=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        for room in queryset:
            room_delete(room=room)

    def get_deleted_objects(
        self, objs: Iterable[Room], request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """The confirmation page's summary: the rooms, and how many messages, attachments and
        memberships go with them, counted, never listed one by one."""
        rooms = list(objs)
        counts = {
            "rooms": len(rooms),
            "messages": Message.objects.filter(room__in=rooms).count(),
            "attachments": Attachment.objects.filter(room__in=rooms).count(),
            "memberships": Membership.objects.filter(room__in=rooms).count(),
        }
        return [f"Room: {room.slug}" for room in rooms], counts, set(), []


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["room", "user", "role", "joined_at"]
    list_filter = ["role"]
    raw_id_fields = ["user", "room"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # The host's user model names its users by its USERNAME_FIELD, not always "username".
        return ["room__slug", name_lookup(through="user")]


class MessageEditInline(admin.TabularInline):  # type: ignore[type-arg]
    """A message's earlier bodies, read-only: the record moderators consult after an edit or delete."""

    model = MessageEdit
    extra = 0
    can_delete = False
    fields = ["edited_at", "action", "edited_by", "previous_body"]
    readonly_fields = ["edited_at", "action", "edited_by", "previous_body"]

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Messages are stored history: the admin shows them but does not write them, so every
    message keeps the seq the service gave it and was published when it was stored."""

    list_display = ["room", "seq", "author", "guest_name", "short_body", "created_at", "edited_at", "deleted_at"]
    list_filter = ["room"]
    list_select_related = ["room", "author"]
    readonly_fields = [
        "room",
        "seq",
        "author",
        "guest_name",
        "guest_id",
        "body",
        "client_id",
        "created_at",
        "edited_at",
        "deleted_at",
    ]
    inlines = [MessageEditInline]

    def has_add_permission(self, request: object) -> bool:
        return False

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return ["body", name_lookup(through="author"), "guest_name"]

    @admin.display(description="body")
    def short_body(self, message: Message) -> str:
        return message.body if len(message.body) <= 80 else message.body[:79] + "…"
