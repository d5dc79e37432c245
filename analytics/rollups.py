"""The nightly rollups (issue 18): a day's bookings, by city × activity, into DailyRollup.

`rollup_day(day)` recomputes the day whole (its rows replaced in one transaction), so running it twice gives
the same rows, and a late event (a booking paid or cancelled days later) is counted once its day is computed
again: `rollup_range(first, last)` (the `analytics_rollup` management command) recomputes any past range.
The funnel counts the requests made that day by what became of them; the money counts the bookings paid that
day. Two aggregate queries per day, grouped in the database; the main tables are read only here."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from analytics.models import DailyRollup
from bookings.models import Booking, BookingStatus

S = BookingStatus
WIB = ZoneInfo("Asia/Jakarta")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=WIB)
    return start, start + timedelta(days=1)


def _funnel(start: datetime, end: datetime) -> dict[tuple, dict]:
    requested = Booking.objects.filter(created_at__gte=start, created_at__lt=end)
    rows = requested.values("companion__city_id", "activity_id").annotate(
        requests=Count("pk"),
        accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
        paid=Count("pk", filter=Q(paid_at__isnull=False)),
        completed=Count("pk", filter=Q(status=S.COMPLETED)),
        declined=Count("pk", filter=Q(status=S.DECLINED, closed_at__lt=F("response_deadline"))),
        unanswered=Count("pk", filter=Q(status=S.DECLINED, closed_at__gte=F("response_deadline"))),
        unpaid=Count("pk", filter=Q(status=S.EXPIRED)),
        cancelled_by_customer=Count("pk", filter=Q(status=S.CANCELLED, cancelled_by="customer")),
        cancelled_by_companion=Count("pk", filter=Q(status=S.CANCELLED, cancelled_by="companion")),
        withdrawn=Count("pk", filter=Q(status=S.WITHDRAWN)),
        accept_time=Sum(
            ExpressionWrapper(F("accepted_at") - F("created_at"), output_field=DurationField()),
            filter=Q(accepted_at__isnull=False),
        ),
    )
    cells = {}
    for row in rows:
        key = (row.pop("companion__city_id"), row.pop("activity_id"))
        taken = row.pop("accept_time")
        row["accept_minutes"] = int(taken.total_seconds() // 60) if taken else 0
        cells[key] = row
    return cells


def _money(start: datetime, end: datetime) -> dict[tuple, dict]:
    paid = Booking.objects.filter(paid_at__gte=start, paid_at__lt=end)
    rows = paid.values("companion__city_id", "activity_id").annotate(
        gmv=Sum("total"), service_fees=Sum("service_fee"), commission=Sum("commission"), discounts=Sum("discount")
    )
    return {(row.pop("companion__city_id"), row.pop("activity_id")): row for row in rows}


def rollup_day(day: date, *, now: datetime | None = None) -> int:
    """Recomputes `day` (Jakarta); returns how many cells it has."""
    now = now or timezone.now()
    start, end = day_bounds(day)
    funnel, money = _funnel(start, end), _money(start, end)
    rows = []
    for key in sorted(set(funnel) | set(money), key=lambda pair: (pair[0] or 0, pair[1] or 0)):
        city_id, activity_id = key
        rows.append(
            DailyRollup(
                day=day,
                city_id=city_id,
                activity_id=activity_id,
                computed_at=now,
                **funnel.get(key, {}),
                **money.get(key, {}),
            )
        )
    with transaction.atomic():
        DailyRollup.objects.filter(day=day).delete()
        DailyRollup.objects.bulk_create(rows)
    return len(rows)


def rollup_range(first: date, last: date, *, now: datetime | None = None) -> int:
    """Recomputes every day from `first` to `last` (inclusive); returns the cells written."""
    if last < first:
        raise ValueError("the range ends before it starts")
    cells, day = 0, first
    while day <= last:
        cells += rollup_day(day, now=now)
        day += timedelta(days=1)
    return cells


def yesterday(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), WIB).date() - timedelta(days=1)
