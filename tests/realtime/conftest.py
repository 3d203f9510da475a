"""People and rooms the transport tests share (created in the test's database, for async tests)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async


@pytest.fixture
async def alice(make_user):
    return await sync_to_async(make_user)("alice")


@pytest.fixture
async def bob(make_user):
    return await sync_to_async(make_user)("bob")


@pytest.fixture
async def lobby(make_room):
    """A public room open to guests."""
    return await sync_to_async(make_room)("lobby", guests_allowed=True)
