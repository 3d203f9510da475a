"""The webhooks tests' room: ``shop``, owned by alice."""

from __future__ import annotations

import pytest

from parley.rooms.models import Room
from parley.rooms.services import room_get_or_create


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def room(alice) -> Room:
    return room_get_or_create(slug="shop", creator=alice).room  # alice owns it
