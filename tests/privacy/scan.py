"""Looking for a person everywhere: every text, character and JSON column of every table in the database,
and every file in every storage."""

from __future__ import annotations

from django.core.files.storage import storages
from django.db import connection

STORAGE_ALIASES = ("default", "private")


def text_columns() -> list[tuple[str, str]]:
    """(table, column) of every text-like column, found by introspecting the database itself (not the
    models: a table no model describes is scanned too)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """
                SELECT c.table_name, c.column_name FROM information_schema.columns c
                JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
                WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
                  AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
                ORDER BY 1, 2
                """
            )
            return list(cursor.fetchall())
        found = []
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'PRAGMA table_info("{table}")')
            for _cid, name, kind, *_rest in cursor.fetchall():
                if any(word in kind.lower() for word in ("char", "text", "json", "clob")) or kind == "":
                    found.append((table, name))
        return found


def database_hits(needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every column holding a needle (case-insensitive, anywhere in the value)."""
    hits = []
    operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    cast = "::text" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for table, column in text_columns():
            quoted = connection.ops.quote_name(table), connection.ops.quote_name(column)
            for needle in needles:
                cursor.execute(
                    f"SELECT 1 FROM {quoted[0]} WHERE {quoted[1]}{cast} {operator} %s LIMIT 1",  # noqa: S608
                    [f"%{needle}%"],
                )
                if cursor.fetchone():
                    hits.append((table, column, needle))
    return hits


def stored_files() -> list[tuple[str, str]]:
    """(storage alias, name) of every stored file."""
    found = []
    for alias in STORAGE_ALIASES:
        storage = storages[alias]
        pending = [""]
        while pending:
            folder = pending.pop()
            try:
                folders, files = storage.listdir(folder)
            except FileNotFoundError:
                continue
            pending.extend(f"{folder}/{name}".lstrip("/") for name in folders)
            found.extend((alias, f"{folder}/{name}".lstrip("/")) for name in files)
    return found


def file_hits(needles: list[str]) -> list[tuple[str, str, str]]:
    hits = []
    for alias, name in stored_files():
        with storages[alias].open(name, "rb") as handle:
            content = handle.read().decode("utf-8", errors="ignore").lower()
        hits.extend((alias, name, needle) for needle in needles if needle.lower() in content)
    return hits
