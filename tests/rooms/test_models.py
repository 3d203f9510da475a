"""Bans and mutes are two kinds of one abstract model, and no model differs from its migrations."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from parley.rooms.models import RoomBan, RoomMute, RoomRestriction


def test_bans_and_mutes_are_restrictions_with_their_own_constraint_names():
    shared = {"id", "room", "user", "by"}
    for model, own in ((RoomBan, {"reason", "created_at"}), (RoomMute, {"until"})):
        assert issubclass(model, RoomRestriction)
        assert {field.name for field in model._meta.concrete_fields} == shared | own
        [constraint] = model._meta.constraints
        assert constraint.name == f"{model._meta.model_name}_unique_room_user"
        assert constraint.fields == ("room", "user")
    assert RoomRestriction._meta.abstract


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    out = io.StringIO()
    # --check exits with status 1 when a model differs from what the migrations make.
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()
