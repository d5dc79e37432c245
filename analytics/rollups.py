"""The nightly rollups (issue 18): a day's activity, aggregated into the tables the dashboard reads.

`rollup_day(day)` recomputes the day whole (each table's rows for it replaced in one transaction), so running
it twice gives the same rows, and a late event (a booking paid, refunded or cancelled days later) is counted
once its day is computed again: `rollup_range(first, last)` (the `analytics_rollup` management command)
recomputes any past range. The bookings part groups a whole chunk of days in the database (one query per
figure per chunk, not per day), so a two-year recompute reads the bookings table a few dozen times, through
its created_at / paid_at / closed_at indexes.

- bookings (DailyRollup, day × city × activity): the funnel counts the requests made that day by what became
  of them; the money counts the bookings paid that day; `refunds` is what went back of our own part (service
  fee + commission − discount) in the bookings settled with a refund that day;
- paid products (DailyProductSales, day × Sorotan/Plus): purchases paid that day, and refunds made that day;
- the other sections (profile views, people, quality, levels) are passed in by analytics/nightly.py.

The main tables are read only here, from `analytics.reading.source()` (a replica when one is configured);
`compute_day` gives a day's booking cells without saving them (the dashboard's live "today")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from analytics.models import DailyProductSales, DailyRollup
from analytics.reading import source
from bookings.models import Booking, BookingStatus
from payments.models import Refund
from products.models import Purchase

S = BookingStatus
WIB = ZoneInfo("Asia/Jakarta")
CHUNK_DAYS = 31

# A per-day rollup besides the bookings': (day, now=, using=) -> rows written, replacing its own table's rows
# for the day. analytics/nightly.py passes every section; this module's own is the paid products'.
DaySection = Callable[..., int]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=WIB)
    return start, start + timedelta(days=1)


def replace_day_row(row) -> int:
    """Stores `row` (a one-row-per-day rollup: DailyPeople, DailyQuality) in place of its day's; returns 1."""
    with transaction.atomic():
        type(row).objects.filter(day=row.day).delete()
        row.save()
    return 1


def _by_day(rows) -> dict[tuple, dict]:
    """{(day, city_id, activity_id): figures} from rows grouped by their rolled-up day."""
    cells = {}
    for row in rows:
        key = (row.pop("rolled_day"), row.pop("companion__city_id"), row.pop("activity_id"))
        cells[key] = row
    return cells


def _funnel(bookings, start: datetime, end: datetime) -> dict[tuple, dict]:
    requested = bookings.filter(created_at__gte=start, created_at__lt=end)
    rows = (
        requested.annotate(rolled_day=TruncDate("created_at", tzinfo=WIB))
        .values("rolled_day", "companion__city_id", "activity_id")
        .annotate(
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
        .order_by()
    )
    cells = _by_day(rows)
    for row in cells.values():
        taken = row.pop("accept_time")
        row["accept_minutes"] = int(taken.total_seconds() // 60) if taken else 0
    return cells


def _money(bookings, start: datetime, end: datetime) -> dict[tuple, dict]:
    paid = bookings.filter(paid_at__gte=start, paid_at__lt=end)
    rows = (
        paid.annotate(rolled_day=TruncDate("paid_at", tzinfo=WIB))
        .values("rolled_day", "companion__city_id", "activity_id")
        .annotate(
            gmv=Sum("total"), service_fees=Sum("service_fee"), commission=Sum("commission"), discounts=Sum("discount")
        )
        .order_by()
    )
    return _by_day(rows)


def _refunds(bookings, start: datetime, end: datetime) -> dict[tuple, dict]:
    """Our part given back: what we would have kept (total − the companion's earnings) less what we kept
    (total − the refund − the companion's settled earnings)."""
    refunded = bookings.filter(closed_at__gte=start, closed_at__lt=end, refund_amount__gt=0)
    rows = (
        refunded.annotate(rolled_day=TruncDate("closed_at", tzinfo=WIB))
        .values("rolled_day", "companion__city_id", "activity_id")
        .annotate(
            refunds=Sum(
                F("refund_amount") + Coalesce(F("settled_companion_earnings"), 0) - F("companion_earnings"),
            )
        )
        .order_by()
    )
    return _by_day(rows)


def compute_bookings(first: date, last: date, *, now: datetime, using: str | None = None) -> dict[date, list]:
    """The booking cells of every day from `first` to `last`, unsaved: {day: [DailyRollup, …]}."""
    bookings = Booking.objects.using(using or source())
    start, end = day_bounds(first)[0], day_bounds(last)[1]
    parts = (_funnel(bookings, start, end), _money(bookings, start, end), _refunds(bookings, start, end))
    keys = set().union(*parts)
    days: dict[date, list] = defaultdict(list)
    for key in sorted(keys, key=lambda k: (k[0], k[1] or 0, k[2] or 0)):
        day, city_id, activity_id = key
        figures = {}
        for part in parts:
            figures.update(part.get(key, {}))
        days[day].append(DailyRollup(day=day, city_id=city_id, activity_id=activity_id, computed_at=now, **figures))
    return days


def compute_day(day: date, *, now: datetime | None = None, using: str | None = None) -> list[DailyRollup]:
    """A day's booking cells, unsaved (the dashboard's live figures for today)."""
    return compute_bookings(day, day, now=now or timezone.now(), using=using).get(day, [])


def compute_product_sales(day: date, *, now: datetime, using: str | None = None) -> list[DailyProductSales]:
    """Sorotan and Plus of the day: purchases paid and their price; refunds of purchases made that day."""
    start, end = day_bounds(day)
    alias = using or source()
    sold = (
        Purchase.objects.using(alias)
        .filter(paid_at__gte=start, paid_at__lt=end)
        .values("product")
        .annotate(purchases=Count("pk"), sales=Sum("price"))
        .order_by()
    )
    refunded = (
        Refund.objects.using(alias)
        .filter(payment__purchase__isnull=False, created_at__gte=start, created_at__lt=end)
        .exclude(status=Refund.Status.FAILED)
        .values("payment__purchase__product")
        .annotate(refunds=Sum("amount"))
        .order_by()
    )
    cells: dict[str, dict] = defaultdict(dict)
    for row in sold:
        cells[row["product"]].update(purchases=row["purchases"], sales=row["sales"] or 0)
    for row in refunded:
        cells[row["payment__purchase__product"]]["refunds"] = row["refunds"] or 0
    return [
        DailyProductSales(day=day, kind=kind, computed_at=now, **figures) for kind, figures in sorted(cells.items())
    ]


def _rollup_product_sales(day: date, *, now: datetime, using: str | None = None) -> int:
    rows = compute_product_sales(day, now=now, using=using)
    with transaction.atomic():
        DailyProductSales.objects.filter(day=day).delete()
        DailyProductSales.objects.bulk_create(rows)
    return len(rows)


OWN_SECTIONS: tuple[DaySection, ...] = (_rollup_product_sales,)


def _save_bookings(day: date, rows: list[DailyRollup]) -> None:
    with transaction.atomic():
        DailyRollup.objects.filter(day=day).delete()
        DailyRollup.objects.bulk_create(rows)


def rollup_range(
    first: date,
    last: date,
    *,
    now: datetime | None = None,
    using: str | None = None,
    sections: tuple[DaySection, ...] = OWN_SECTIONS,
) -> int:
    """Recomputes every day from `first` to `last` (inclusive) with the bookings' rollup and `sections`;
    returns the booking cells written."""
    if last < first:
        raise ValueError("the range ends before it starts")
    now = now or timezone.now()
    cells, chunk_start = 0, first
    while chunk_start <= last:
        chunk_end = min(last, chunk_start + timedelta(days=CHUNK_DAYS - 1))
        by_day = compute_bookings(chunk_start, chunk_end, now=now, using=using)
        day = chunk_start
        while day <= chunk_end:
            rows = by_day.get(day, [])
            _save_bookings(day, rows)
            cells += len(rows)
            for section in sections:
                section(day, now=now, using=using)
            day += timedelta(days=1)
        chunk_start = chunk_end + timedelta(days=1)
    return cells


def rollup_day(
    day: date, *, now: datetime | None = None, using: str | None = None, sections: tuple[DaySection, ...] = OWN_SECTIONS
) -> int:
    """Recomputes `day` (Jakarta); returns how many booking cells it has."""
    return rollup_range(day, day, now=now, using=using, sections=sections)


def yesterday(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), WIB).date() - timedelta(days=1)
