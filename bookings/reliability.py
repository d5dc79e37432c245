"""Each companion's reliability over the last WINDOW, shown on their profile; recomputed daily (the beat)
and stored on the profile (companions.services.profiles_set_reliability), so pages read it with the row.

- Response rate: of the requests received in the window that needed an answer (not instant bookings, not
  withdrawn before an answer, not still open), the share answered before the deadline. A decline is an
  answer and never counts against anyone: companions must stay free to vet whom they meet.
- Cancellations by the companion after accepting, and completed bookings, closed in the window.
- Repeat customers: of the customers whose booking completed in the window, the share who have completed
  more than one booking with this companion.
A rate needs MIN_FOR_A_RATE cases, else it is None (the profile says nothing rather than 100% of 1)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from bookings.policy import CancelledBy
from companions import services as companion_services

WINDOW = timedelta(days=90)
MIN_FOR_A_RATE = 3
S = BookingStatus


def figures(now: datetime) -> dict[int, dict]:
    """profile id -> the figures (companions.services.RELIABILITY_FIELDS) for every companion; three
    aggregate queries whatever the number of companions or bookings."""
    since = now - WINDOW
    needed_answer = (
        Q(created_at__gte=since)
        & ~Q(accepted_at=F("created_at"))  # instant bookings had nobody to answer
        & ~Q(status=S.WITHDRAWN, accepted_at__isnull=True)  # withdrawn before an answer
        & ~Q(status=S.REQUESTED, response_deadline__gt=now)  # still open
    )
    answered = Q(accepted_at__isnull=False) | Q(status=S.DECLINED, closed_at__lt=F("response_deadline"))
    rows = Booking.objects.values("companion_id").annotate(
        requests=Count("pk", filter=needed_answer),
        answered=Count("pk", filter=needed_answer & answered),
        completed=Count("pk", filter=Q(status=S.COMPLETED, closed_at__gte=since)),
        cancelled=Count(
            "pk",
            filter=Q(
                status=S.CANCELLED,
                cancelled_by=CancelledBy.COMPANION,
                cancelled_for_safety=False,  # cancelled through a report: never against the reporter
                accepted_at__isnull=False,
                closed_at__gte=since,
            ),
        ),
    )
    result: dict[int, dict] = defaultdict(
        lambda: {"response_rate": None, "completed_recently": 0, "cancelled_recently": 0, "repeat_share": None}
    )
    for row in rows:
        result[row["companion_id"]].update(
            response_rate=_rate(row["answered"], row["requests"]),
            completed_recently=row["completed"],
            cancelled_recently=row["cancelled"],
        )
    for companion_id, customers, again in _repeat_customers(since):
        result[companion_id]["repeat_share"] = _rate(again, customers)
    return result


def _repeat_customers(since: datetime) -> list[tuple[int, int, int]]:
    """(companion, customers whose booking completed since `since`, how many of them have completed more
    than one booking with that companion ever): one row per companion, aggregated in the database."""
    table = connection.ops.quote_name(Booking._meta.db_table)
    # Only the table's quoted name is formatted in; the values are parameters.
    sql = f"""
        SELECT companion_id, COUNT(*), SUM(CASE WHEN bookings > 1 THEN 1 ELSE 0 END)
        FROM (
            SELECT companion_id, customer_id, COUNT(*) AS bookings, MAX(closed_at) AS last_closed
            FROM {table} WHERE status = %s GROUP BY companion_id, customer_id
        ) AS pairs
        WHERE last_closed >= %s
        GROUP BY companion_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [S.COMPLETED, since])
        return [(companion_id, customers, int(again)) for companion_id, customers, again in cursor.fetchall()]


def _rate(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole >= MIN_FOR_A_RATE else None


def recompute(now: datetime | None = None) -> int:
    """Stores every companion's figures (a companion with no booking in the window gets empty ones);
    returns how many profiles changed. Run twice, the second run changes nothing."""
    return companion_services.profiles_set_reliability(dict(figures(now or timezone.now())))
