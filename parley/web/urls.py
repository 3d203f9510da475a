from __future__ import annotations

from django.urls import path

from parley.web import files, moderation, views, webhooks

urlpatterns = [
    path("", views.index, name="index"),
    path("go/", views.jump, name="jump"),
    path("rooms/new/", views.room_create, name="room-create"),
    path("chat/<slug:slug>/", views.room, name="room"),
    path("chat/<slug:slug>/guest/", views.guest_name, name="guest-name"),
    path("chat/<slug:slug>/settings/", moderation.room_settings, name="room-settings"),
    path("chat/<slug:slug>/settings/save/", moderation.room_settings_save, name="room-settings-save"),
    path("chat/<slug:slug>/settings/moderate/", moderation.room_moderate, name="room-moderate"),
    path("chat/<slug:slug>/settings/webhooks/", webhooks.room_webhook_add, name="room-webhook-add"),
    path("chat/<slug:slug>/settings/webhooks/<int:webhook_id>/", webhooks.room_webhook_change, name="room-webhook"),
    path("files/<int:pk>/", files.attachment, name="attachment"),
    path("files/<int:pk>/thumbnail/", files.attachment_thumbnail, name="attachment-thumbnail"),
    path("dms/", moderation.dms, name="dms"),
    path("dms/new/", moderation.dm_open, name="dm-open"),
]
