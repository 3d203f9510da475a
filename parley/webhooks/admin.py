"""Webhooks in the admin: every delivery with each of its attempts, for finding out why a receiver
did not get a message."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from parley.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from parley.webhooks.services import WebhookError, check_webhook_url, room_webhooks_flag_refresh


class WebhookForm(forms.ModelForm):  # type: ignore[type-arg]
    """The admin's webhook form: its URL is checked as the API checks it (public receivers only)."""

    url = forms.CharField(max_length=2000)

    class Meta:
        model = Webhook
        fields = ["room", "url", "secret", "active", "created_by"]

    def clean_url(self) -> str:
        try:
            return check_webhook_url(str(self.cleaned_data["url"]))
        except WebhookError as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = WebhookForm
    list_display = ["id", "room", "url", "active", "stopped_reason", "created_by", "created_at"]
    list_filter = ["active"]
    search_fields = ["room__slug", "url"]
    raw_id_fields = ["room", "created_by"]
    readonly_fields = ["stopped_reason", "created_at"]

    def save_model(self, request: HttpRequest, obj: Webhook, form: ModelForm[Webhook], change: bool) -> None:
        if obj.active:
            obj.stopped_reason = ""  # staff switched it back on: the reason it stopped for is over
        super().save_model(request, obj, form, change)
        room_webhooks_flag_refresh(room_id=obj.room_id)

    def delete_model(self, request: HttpRequest, obj: Webhook) -> None:
        room_id = obj.room_id
        super().delete_model(request, obj)
        room_webhooks_flag_refresh(room_id=room_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        room_ids = set(queryset.values_list("room_id", flat=True))
        super().delete_queryset(request, queryset)
        for room_id in room_ids:
            room_webhooks_flag_refresh(room_id=room_id)


class WebhookAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("at", "status_code", "error", "duration_ms")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Deliveries are written by the task runners only: the admin shows them and their attempts."""

    list_display = ["id", "webhook", "message", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status"]
    list_select_related = ["webhook__room", "message__room"]
    search_fields = ["webhook__url", "webhook__room__slug"]
    readonly_fields = ["webhook", "message", "status", "attempts", "next_attempt_at", "created_at", "delivered_at"]
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
