"""Parley's admin pages: each domain package registers its own models in its ``admin`` module.

Their base classes are written unsubscripted (``admin.ModelAdmin``, not ``admin.ModelAdmin[Room]``,
with ``type: ignore[type-arg]``), as are Parley's forms': subscripting them at run time needs
``django_stubs_ext.monkeypatch()``, which a host project has no reason to run.
"""

from __future__ import annotations

from parley.accounts import admin as accounts_admin
from parley.notifications import admin as notifications_admin
from parley.rooms import admin as rooms_admin
from parley.webhooks import admin as webhooks_admin

__all__ = ["accounts_admin", "notifications_admin", "rooms_admin", "webhooks_admin"]
