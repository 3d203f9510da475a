from __future__ import annotations

from django.contrib import admin

from parley.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "recipient", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "kind"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["created_at"]
