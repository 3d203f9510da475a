from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from parley.accounts.users import name_lookup
from parley.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "recipient", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["created_at"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # The host's user model names its users by its USERNAME_FIELD, not always "username".
        return [name_lookup(through="recipient"), "kind"]
