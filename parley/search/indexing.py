"""The full-text index of message bodies, in the database itself, on each of Parley's databases.

SQLite (the embedded default): an FTS5 table with external content — it stores only the index
and reads bodies from ``parley_message`` by rowid — and three triggers that keep it in step on
insert, on update of ``body`` (so an edited message is found by its new words only) and on delete.

PostgreSQL: a GIN index on ``to_tsvector(<config>, body)``, where ``<config>`` is the text search
configuration ``PARLEY_SEARCH_CONFIG``. A query uses the index only when it repeats that expression
exactly, so the index is named after the configuration and ``selectors.py`` builds its SQL from
the same setting.

The migration installs both; ``search_index_repair`` runs after every ``migrate`` and puts back
what a later migration took away: SQLite drops a table's triggers whenever Django rebuilds the
table (as it does to add a column with a default), and a changed ``PARLEY_SEARCH_CONFIG`` needs
an index of its own.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

from parley.conf import parley_settings

FTS_TABLE = "parley_message_fts"
MESSAGE_TABLE = "parley_message"
# The migration that installs the index: until it has run, there is nothing to repair.
INDEX_MIGRATION = ("parley", "0002_search_index")
TRIGGERS = {
    "parley_message_fts_insert": f"""
        CREATE TRIGGER IF NOT EXISTS parley_message_fts_insert AFTER INSERT ON {MESSAGE_TABLE} BEGIN
            INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.id, new.body);
        END""",
    "parley_message_fts_update": f"""
        CREATE TRIGGER IF NOT EXISTS parley_message_fts_update AFTER UPDATE OF body ON {MESSAGE_TABLE} BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) VALUES ('delete', old.id, old.body);
            INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.id, new.body);
        END""",
    "parley_message_fts_delete": f"""
        CREATE TRIGGER IF NOT EXISTS parley_message_fts_delete AFTER DELETE ON {MESSAGE_TABLE} BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) VALUES ('delete', old.id, old.body);
        END""",
}
# unicode61 folds case and, with remove_diacritics 2, accents ("café" finds "cafe"), for every
# script; no stemming, like PostgreSQL's 'simple' configuration.
CREATE_FTS_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    f"body, content='{MESSAGE_TABLE}', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
)
CONFIG_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


def search_config() -> str:
    """``PARLEY_SEARCH_CONFIG``, checked: it is written into SQL, so it must be a plain name."""
    config = str(parley_settings.SEARCH_CONFIG)
    if not CONFIG_NAME.match(config):
        raise ImproperlyConfigured(
            f"PARLEY_SEARCH_CONFIG is {config!r}: set it to the name of a PostgreSQL text search "
            "configuration, such as simple or english."
        )
    return config


def tsvector_sql(column: str) -> str:
    """``to_tsvector('<config>'::regconfig, <column>)``: the indexed expression, spelled as the index has it."""
    return f"to_tsvector('{search_config()}'::regconfig, {column})"


def postgres_index_name() -> str:
    return f"parley_message_body_{search_config().replace('.', '_')}"


def search_index_install(connection: BaseDatabaseWrapper) -> None:
    """Create what this database needs for search (nothing is done twice)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [MESSAGE_TABLE])
            present = {row[0] for row in cursor.fetchall()}
            cursor.execute(CREATE_FTS_TABLE)
            for sql in TRIGGERS.values():
                cursor.execute(sql)
            if not present.issuperset(TRIGGERS):
                # Messages may have been stored or changed while a trigger was missing: index anew.
                cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        elif connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {postgres_index_name()} ON {MESSAGE_TABLE} "
                f"USING gin ({tsvector_sql('body')})"
            )


def search_index_uninstall(connection: BaseDatabaseWrapper) -> None:
    """Drop what ``search_index_install`` created (the migration's reverse)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {postgres_index_name()}")


def search_index_repair(*, using: str = "default", **kwargs: Any) -> None:
    """``post_migrate``: once the search index's migration is applied, make sure its index is complete."""
    connection = connections[using]
    if INDEX_MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return
    search_index_install(connection)
