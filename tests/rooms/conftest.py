"""Fixtures of the domain tests: files kept in a temporary MEDIA_ROOT, and the person who keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def media_root(settings, tmp_path: Path) -> Path:
    """Attachments stored (through the default storage) under the test's own temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def alice(make_user):
    return make_user("alice")
