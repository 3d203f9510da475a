from __future__ import annotations

from django.urls import path

from parley.web import moderation, views

urlpatterns = [
    path("", views.index, name="index"),
    path("go/", views.jump, name="jump"),
    path("rooms/new/", views.room_create, name="room-create"),
    path("chat/<slug:slug>/", views.room, name="room"),
    path("chat/<slug:slug>/guest/", views.guest_name, name="guest-name"),
    path("chat/<slug:slug>/settings/", moderation.room_settings, name="room-settings"),
    path("chat/<slug:slug>/settings/save/", moderation.room_settings_save, name="room-settings-save"),
    path("chat/<slug:slug>/settings/moderate/", moderation.room_moderate, name="room-moderate"),
    path("dms/", moderation.dms, name="dms"),
    path("dms/new/", moderation.dm_open, name="dm-open"),
]
