from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    """Full-text search over the messages people may read."""

    name = "parley.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from parley.search.indexing import search_index_repair

        # After every migrate: a later migration of rooms_message may have rebuilt the table
        # (SQLite drops a table's triggers with it) or PARLEY_SEARCH_CONFIG may have changed.
        post_migrate.connect(search_index_repair, sender=self, dispatch_uid="parley.search.repair")
