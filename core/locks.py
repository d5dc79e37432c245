"""Row locks, taken one way everywhere: inside a transaction, with a short lock timeout, in a fixed order.

pretix's `locking.py` and Saleor's `lock_objects` are the models: a lock is always taken late and briefly,
and waiting for one never holds a server thread for long. A wait past `timeout_ms` raises `LockBusy` (the
caller turns it into a clear "try again", or a 503 for a webhook so the provider retries).

Apps state their own order on top of this (bookings: customer, then companion, then booking); this module
knows no app.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Model, QuerySet


class LockBusy(Exception):
    """The row is locked by someone else for longer than the lock timeout (nothing was written)."""


def require_transaction() -> None:
    """Locks outside a transaction are released at once (autocommit): refuse, loudly, in every environment."""
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("Row locks must be taken inside transaction.atomic().")


def set_lock_timeout(timeout_ms: int | None = None) -> None:
    """Bounds every lock wait for the rest of the current transaction (PostgreSQL; SQLite locks the whole
    database and has no row locks)."""
    require_transaction()
    if connection.vendor == "postgresql":
        milliseconds = int(timeout_ms if timeout_ms is not None else settings.LOCK_TIMEOUT_MS)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{milliseconds}ms"])


def lock(queryset: QuerySet, *, timeout_ms: int | None = None, of: Iterable[str] = ("self",)) -> list[Model]:
    """Locks the rows of `queryset` (FOR UPDATE OF the queryset's own table, ordered by primary key so two
    callers locking the same set never deadlock) and returns them. Raises LockBusy after the timeout."""
    set_lock_timeout(timeout_ms)
    try:
        return list(queryset.select_for_update(of=tuple(of)).order_by("pk"))
    except OperationalError as error:
        raise LockBusy(str(error)) from error


def lock_one(model: type[Model], pk, *, timeout_ms: int | None = None) -> Model | None:
    """Locks one row by primary key; None when it does not exist."""
    rows = lock(model._default_manager.filter(pk=pk), timeout_ms=timeout_ms)
    return rows[0] if rows else None
