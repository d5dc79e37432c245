"""Writing many rows' new values in one statement per batch.

Django's bulk_update builds a CASE WHEN per field and row in Python (slow for thousands of rows). On
PostgreSQL the rows travel as one array per column instead (UPDATE ... FROM unnest(...)); elsewhere (SQLite
for `make run`) bulk_update does the same job."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

BATCH = 5_000


def update_rows(model: type[Model], fields: Sequence[str], rows: Sequence[tuple]) -> int:
    """Sets `fields` of each row given as (pk, value, value, ...) in the order of `fields`; returns the
    number of rows given. Call inside a transaction when the rows must change together."""
    if not rows:
        return 0
    concrete = [model._meta.get_field(name) for name in fields]
    if connection.vendor != "postgresql":
        objects = [model(pk=row[0], **dict(zip(fields, row[1:], strict=True))) for row in rows]
        model._default_manager.bulk_update(objects, list(fields), batch_size=500)
        return len(rows)
    pk = model._meta.pk
    quote = connection.ops.quote_name
    columns = [pk.column, *(field.column for field in concrete)]
    # rel_db_type: a serial or identity key's plain type (integer, bigint), as a column pointing at it has.
    types = [pk.rel_db_type(connection), *(field.db_type(connection) for field in concrete)]
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    names = ", ".join(quote(f"v_{column}") for column in columns)
    assignments = ", ".join(f"{quote(column)} = v.{quote(f'v_{column}')}" for column in columns[1:])
    # Only quoted names and column types from the model are formatted in; the values are parameters.
    table, key, given_key = quote(model._meta.db_table), quote(pk.column), quote(f"v_{pk.column}")
    sql = f"UPDATE {table} AS t SET {assignments} FROM unnest({arrays}) AS v({names}) WHERE t.{key} = v.{given_key}"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            cursor.execute(sql, [[row[index] for row in batch] for index in range(len(columns))])
    return len(rows)
