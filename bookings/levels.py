"""The daily level job's bookings half: each companion's figures over the last year, from two aggregate
queries whatever the number of bookings; companions.levels applies the level policy to them.

- Completed bookings and different customers: bookings completed in the last 365 days.
- Cancellation rate: of the bookings the companion accepted that ended in the last 365 days either
  completed or cancelled by the companion, the share the companion cancelled (a rate needs
  MIN_FOR_A_RATE cases; cancellations by the customer or by staff never count).
- Recent subtotal: the subtotals of the bookings completed in the last 90 days (what "the next level is
  worth" is computed from on the companion's "My level" page)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from bookings.policy import CancelledBy
from bookings.reliability import MIN_FOR_A_RATE
from companions import levels as companion_levels

YEAR = timedelta(days=365)
RECENT = timedelta(days=90)
S = BookingStatus


def figures(now: datetime) -> dict[int, dict]:
    """profile id -> companions.levels.FIGURE_FIELDS, for every companion with a booking in the year."""
    since, recent = now - YEAR, now - RECENT
    completed = Q(status=S.COMPLETED, closed_at__gte=since)
    cancelled = Q(
        status=S.CANCELLED,
        cancelled_by=CancelledBy.COMPANION,
        cancelled_for_safety=False,  # cancelled through a report: never against the reporter
        accepted_at__isnull=False,
        closed_at__gte=since,
    )
    rows = (
        Booking.objects.filter(closed_at__gte=since, status__in=(S.COMPLETED, S.CANCELLED))
        .values("companion_id")
        .annotate(
            completed=Count("pk", filter=completed),
            customers=Count("customer_id", filter=completed, distinct=True),
            cancelled=Count("pk", filter=cancelled),
            recent_subtotal=Sum("subtotal", filter=Q(status=S.COMPLETED, closed_at__gte=recent), default=0),
        )
        .values_list("companion_id", "completed", "customers", "cancelled", "recent_subtotal")
    )
    found = {}
    for companion_id, done, customers, cancelled_count, recent_subtotal in rows:
        ended = done + cancelled_count
        found[companion_id] = {
            "completed": done,
            "customers": customers,
            "cancellation_rate": round(100 * cancelled_count / ended) if ended >= MIN_FOR_A_RATE else None,
            "recent_subtotal": int(recent_subtotal),
        }
    return found


def recompute(now: datetime | None = None) -> dict[str, int]:
    """Every companion's level under the policy in effect today (WIB). Run after the reliability
    figures (the response rate is read from the profile). Run twice, the second run changes nothing."""
    now = now or timezone.now()
    return companion_levels.standings_apply(figures(now), day=companion_levels.today_wib(now))
