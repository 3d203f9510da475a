"""The full-text index of message bodies: FTS5 and triggers on SQLite, a GIN index on PostgreSQL.

What is created depends on the database (``parley/search/indexing.py`` holds the SQL); other
databases get nothing, and search answers with no hits there.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def install(apps: Any, schema_editor: Any) -> None:
    from parley.search.indexing import search_index_install

    search_index_install(schema_editor.connection)


def uninstall(apps: Any, schema_editor: Any) -> None:
    from parley.search.indexing import search_index_uninstall

    search_index_uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("parley", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
