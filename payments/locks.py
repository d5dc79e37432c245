"""Row locks of the payments app, on top of core/locks.py (inside a transaction, short lock timeout).

A wait past the timeout raises PaymentBusy (a PaymentError: pages say "try again"; the webhook answers
503 so Midtrans retries). The order, so two paths never wait on each other the wrong way round:
a payment, then its booking's parties and the booking (bookings/locks.py: customer, companion, booking);
a refund, then its payment. A payout and a companion's profile (payout requests) are locked alone.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet

from core import locks
from payments.errors import PaymentBusy


def lock_first(queryset: QuerySet) -> Model | None:
    """Locks the rows of `queryset` and returns the first (by primary key), or None when there is none.
    Call inside transaction.atomic()."""
    try:
        rows = locks.lock(queryset)
    except locks.LockBusy as error:
        raise PaymentBusy() from error
    return rows[0] if rows else None


def lock_get(queryset: QuerySet) -> Model:
    """Like lock_first, for a row that must exist (raises the model's DoesNotExist otherwise)."""
    row = lock_first(queryset)
    if row is None:
        raise queryset.model.DoesNotExist(f"no {queryset.model.__name__} to lock")
    return row
