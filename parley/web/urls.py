from __future__ import annotations

from django.urls import path

from parley.web import views

urlpatterns = [
    path("", views.index, name="index"),
    path("go/", views.jump, name="jump"),
    path("rooms/new/", views.room_create, name="room-create"),
    path("chat/<slug:slug>/", views.room, name="room"),
    path("chat/<slug:slug>/guest/", views.guest_name, name="guest-name"),
]
