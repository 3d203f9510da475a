"""Search has no models of its own: it indexes ``rooms.Message`` in the database itself.

This module exists so that Django sends this app ``post_migrate`` (``apps.SearchConfig.ready``).
On SQLite the index is an FTS5 table kept in step by triggers; on PostgreSQL an expression GIN
index over ``rooms_message.body`` (``indexing.py``).
"""
