"""Each companion's reliability over the last WINDOW, shown on their profile; recomputed daily (the beat)
and stored on the profile (companions.services.profile_set_reliability), so pages read it with the row.

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

from django.db.models import Count, F, Q
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from bookings.policy import CancelledBy
from companions import services as companion_services
from companions.models import CompanionProfile

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
    recent = set(
        Booking.objects.filter(status=S.COMPLETED, closed_at__gte=since).values_list("companion_id", "customer_id")
    )
    completed_counts = (
        Booking.objects.filter(status=S.COMPLETED)
        .values("companion_id", "customer_id")
        .annotate(count=Count("pk"))
        .values_list("companion_id", "customer_id", "count")
    )
    customers: dict[int, list[bool]] = defaultdict(list)
    for companion_id, customer_id, count in completed_counts:
        if (companion_id, customer_id) in recent:
            customers[companion_id].append(count > 1)
    for companion_id, again in customers.items():
        result[companion_id]["repeat_share"] = _rate(sum(again), len(again))
    return result


def _rate(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole >= MIN_FOR_A_RATE else None


def recompute(now: datetime | None = None) -> int:
    """Stores every companion's figures (a companion with no booking in the window gets empty ones);
    returns how many profiles changed. Run twice, the second run changes nothing."""
    now = now or timezone.now()
    found = figures(now)
    empty = {"response_rate": None, "completed_recently": 0, "cancelled_recently": 0, "repeat_share": None}
    changed = 0
    for profile_id in CompanionProfile.objects.values_list("pk", flat=True).iterator():
        values = found[profile_id] if profile_id in found else empty
        changed += companion_services.profile_set_reliability(profile_id=profile_id, figures=values)
    return changed
