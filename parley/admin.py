"""Parley's admin pages: each domain package registers its own models in its ``admin`` module."""

from __future__ import annotations

from parley.accounts import admin as accounts_admin
from parley.notifications import admin as notifications_admin
from parley.rooms import admin as rooms_admin
from parley.webhooks import admin as webhooks_admin

__all__ = ["accounts_admin", "notifications_admin", "rooms_admin", "webhooks_admin"]
