"""People on the dashboard (issue 18), platform-wide: sign-ups, first bookings, active companions and monthly
cohort retention.

- `rollup_people(day)` replaces the day's DailyPeople row (idempotent). `active_companions` is a snapshot of
  "now": it is taken only when the day rolled up is today or yesterday (Jakarta); recomputing an older day
  keeps the value stored for it, so history is never wiped by a recompute.
- `rollup_cohorts()` replaces CohortRetention whole from paid bookings in one grouped query.
- `people_figures()` reads the stored rows (today computed live) in a constant number of queries.

A booking counts as paid once it has `paid_at`, even if it is refunded later: the customer came back and
paid, which is what retention measures (and a late refund does not move a cohort)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connections, transaction
from django.db.models import Count, DurationField, Max, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from analytics.csv_export import suppress
from analytics.models import CohortRetention, DailyPeople
from analytics.reading import source
from analytics.rollups import WIB, day_bounds, replace_day_row
from analytics.selectors import Period, is_small
from bookings.models import Booking
from companions.models import CompanionProfile
from companions.selectors import SearchQuery, search_companions

ACTIVE_DAYS = 7  # "active": free time on one of the next 7 days
COHORTS_SHOWN = 12
MONTHS_SHOWN = 12  # months 0..11 after the cohort's month


def _today(now: datetime) -> date:
    return timezone.localtime(now, WIB).date()


def takes_snapshot(day: date, now: datetime) -> bool:
    """Snapshots of "now" (active companions, levels) belong to today's or yesterday's row only."""
    return _today(now) - timedelta(days=1) <= day <= _today(now)


def active_companions(*, now: datetime, using: str) -> int:
    """Companions listed (verified, complete, not paused, account active) with a free start on one of the next
    7 days for their own minimum hours: the search's "free on a day" filter (companions.selectors, the SQL
    twin of the availability engine), the 7 days OR-ed into one count per minimum in use.

    1 + (minimums in use, at most 12) queries whatever the number of companions; the minimum is a plain
    top-level condition the database checks before the probes, so each companion's hours are probed in one
    query only (about a second at 20,000 companions: for the nightly job, not a page view). Like the search's
    day filter, bookings are not subtracted (a fully booked day still counts as free time offered). The days
    are Jakarta's: a companion in WITA/WIT near midnight is judged on the same dates."""
    listed = CompanionProfile.objects.using(using).filter(is_listed=True, user__is_active=True)
    minimums = sorted(set(listed.values_list("min_hours", flat=True).distinct()))
    today = _today(now)
    active = 0
    for hours in minimums:
        free = None
        for offset in range(ACTIVE_DAYS):
            branch = search_companions(SearchQuery(day=today + timedelta(days=offset), hours=hours), now=now)
            free = branch if free is None else free | branch
        active += free.filter(min_hours=hours).order_by().using(using).count()
    return active


def _new_people(start: datetime, end: datetime, using: str) -> dict[str, int]:
    joined = User.objects.using(using).filter(date_joined__gte=start, date_joined__lt=end, is_staff=False)
    companion = Q(role=Role.COMPANION) | Q(companion_profile__isnull=False)
    counts = joined.aggregate(
        new_customers=Count("pk", filter=~companion & Q(role=Role.CUSTOMER)),
        new_companions=Count("pk", filter=companion),
    )
    return {name: int(value or 0) for name, value in counts.items()}


def _first_bookings(start: datetime, end: datetime, using: str) -> tuple[int, int]:
    """(customers whose first booking request ever was in [start, end), the hours from their sign-up to it,
    summed): only that day's customers are grouped, on the (customer, …) index."""
    bookings = Booking.objects.using(using)
    that_day = bookings.filter(created_at__gte=start, created_at__lt=end).values("customer_id")
    firsts = (
        bookings.filter(customer_id__in=that_day)
        .values("customer_id")
        .annotate(first=Min("created_at"), wait=Min("created_at") - Max("customer__date_joined"))
        .filter(first__gte=start, first__lt=end)
    )
    totals = firsts.aggregate(customers=Count("customer_id"), waited=Sum("wait", output_field=DurationField()))
    waited = totals["waited"]
    hours = round(waited.total_seconds() / 3600) if waited else 0
    return int(totals["customers"] or 0), max(hours, 0)


def compute_people(day: date, *, now: datetime, using: str, snapshot: bool = True) -> DailyPeople:
    """The day's row, unsaved. `active_companions` is counted now when the day is today or yesterday, else it
    is the value already stored for the day (None if there is none). `snapshot=False` (the dashboard's live
    today) leaves it None: counting takes about a second at 20,000 companions, too long for a page view."""
    start, end = day_bounds(day)
    first_bookings, hours = _first_bookings(start, end, using)
    if not snapshot:
        active = None
    elif takes_snapshot(day, now):
        active = active_companions(now=now, using=using)
    else:
        active = DailyPeople.objects.filter(day=day).values_list("active_companions", flat=True).first()
    return DailyPeople(
        day=day,
        **_new_people(start, end, using),
        first_bookings=first_bookings,
        signup_to_first_hours=hours,
        active_companions=active,
        computed_at=now,
    )


def rollup_people(day: date, *, now: datetime | None = None, using: str | None = None) -> int:
    """Recomputes `day` (Jakarta) into DailyPeople, replacing its row; returns 1."""
    now = now or timezone.now()
    return replace_day_row(compute_people(day, now=now, using=using or source()))


COHORT_SQL = """
WITH paid AS (
    SELECT customer_id, date_trunc('month', paid_at AT TIME ZONE 'Asia/Jakarta')::date AS month
    FROM {bookings} WHERE paid_at IS NOT NULL
    GROUP BY 1, 2
), firsts AS (
    SELECT customer_id, min(month) AS cohort FROM paid GROUP BY 1
)
SELECT firsts.cohort,
       ((extract(year FROM paid.month) - extract(year FROM firsts.cohort)) * 12
        + extract(month FROM paid.month) - extract(month FROM firsts.cohort))::int AS months_after,
       count(*) AS customers
FROM paid JOIN firsts USING (customer_id)
GROUP BY 1, 2
ORDER BY 1, 2
"""


def _cohort_cells_portable(using: str) -> list[tuple[date, int, int]]:
    """The same cells without PostgreSQL (`make run`'s SQLite, small data): each customer's paid months from
    the database (grouped there), the cohorts counted here."""
    months = (
        Booking.objects.using(using)
        .filter(paid_at__isnull=False)
        .annotate(month=TruncMonth("paid_at", tzinfo=WIB))
        .values_list("customer_id", "month")
        .distinct()
        .order_by()
    )
    by_customer: dict[int, set[date]] = {}
    for customer_id, month in months:
        by_customer.setdefault(customer_id, set()).add(month.date() if isinstance(month, datetime) else month)
    cells: dict[tuple[date, int], int] = {}
    for paid_months in by_customer.values():
        cohort = min(paid_months)
        for month in paid_months:
            after = (month.year - cohort.year) * 12 + month.month - cohort.month
            cells[(cohort, after)] = cells.get((cohort, after), 0) + 1
    return [(cohort, after, customers) for (cohort, after), customers in sorted(cells.items())]


def cohort_cells(*, using: str) -> list[tuple[date, int, int]]:
    """(cohort month, months after, customers) from every paid booking: one grouped query in the database
    (each customer's paid months, then their first), never a loop over bookings."""
    if connections[using].vendor != "postgresql":
        return _cohort_cells_portable(using)
    sql = COHORT_SQL.format(bookings=connections[using].ops.quote_name(Booking._meta.db_table))
    with connections[using].cursor() as cursor:
        cursor.execute(sql)
        return [(cohort, int(months), int(customers)) for cohort, months, customers in cursor.fetchall()]


def rollup_cohorts(*, now: datetime | None = None, using: str | None = None) -> int:
    """Replaces CohortRetention whole; returns the cells written."""
    now = now or timezone.now()
    rows = [
        CohortRetention(cohort=cohort, months_after=months, customers=customers, computed_at=now)
        for cohort, months, customers in cohort_cells(using=using or source())
    ]
    with transaction.atomic():
        CohortRetention.objects.all().delete()
        CohortRetention.objects.bulk_create(rows)
    return len(rows)


# --- What the dashboard shows -------------------------------------------------------------------------------

COUNTS = ("new_customers", "new_companions", "first_bookings")


def _shown(count: int | None) -> dict:
    return {"count": count, "small": count is not None and is_small(count)}


def _totals(rows: list[DailyPeople]) -> dict:
    totals = {name: sum(getattr(row, name) for row in rows) for name in COUNTS}
    hours = sum(row.signup_to_first_hours for row in rows)
    first = totals["first_bookings"]
    shown = {name: _shown(value) for name, value in totals.items()}
    # An average of fewer than 5 people is not shown.
    shown["average_hours"] = round(hours / first, 1) if first and not is_small(first) else None
    return shown


def _month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _cohort_table(cells: list[CohortRetention], today: date) -> list[dict]:
    by_cohort: dict[date, dict[int, int]] = {}
    for cell in cells:
        by_cohort.setdefault(cell.cohort, {})[cell.months_after] = cell.customers
    this_month = today.replace(day=1)
    table = []
    for cohort in sorted(by_cohort)[-COHORTS_SHOWN:]:
        months = by_cohort[cohort]
        size = months.get(0, 0)
        row = []
        for after in range(MONTHS_SHOWN):
            if _month_add(cohort, after) > this_month:
                row.append(None)  # not reached yet
                continue
            customers = months.get(after, 0)
            small = is_small(customers)
            share = None if small or not size else round(100 * customers / size, 1)
            row.append({"months_after": after, "customers": customers, "small": small, "share": share})
        table.append({"cohort": cohort, "size": size, "small": is_small(size), "cells": row})
    return table


def _chart_value(count: int) -> int | None:
    return None if is_small(count) else count


def people_figures(*, period: Period, today: date, now: datetime) -> dict:
    """The people section: totals for the period and the one before, the latest active companions (the last
    snapshot stored, normally last night's), a daily series (and its chart spec under "chart", for
    json_script), and the cohort table. Stored rows, with today's counts computed live; four queries."""
    before = period.before()
    stored = {
        row.day: row
        for row in DailyPeople.objects.filter(day__gte=before.start, day__lte=period.end).exclude(day=today)
    }
    if before.start <= today <= period.end:
        stored[today] = compute_people(today, now=now, using=source(), snapshot=False)
    empty = {name: 0 for name in (*COUNTS, "signup_to_first_hours")}

    def rows_of(span: Period) -> list:
        days = (span.start + timedelta(days=offset) for offset in range(span.days))
        return [stored.get(day) or DailyPeople(day=day, **empty) for day in days]

    now_rows, before_rows = rows_of(period), rows_of(before)
    latest = max(
        (row for row in stored.values() if row.active_companions is not None), key=lambda r: r.day, default=None
    )
    daily = [{"day": row.day, **{name: _shown(getattr(row, name)) for name in COUNTS}} for row in now_rows]
    chart = {
        "type": "line",
        "labels": [row["day"].strftime("%d-%m") for row in daily],
        "series": [
            {"label": _("New customers"), "data": [_chart_value(row["new_customers"]["count"]) for row in daily]},
            {"label": _("New companions"), "data": [_chart_value(row["new_companions"]["count"]) for row in daily]},
            {"label": _("First bookings"), "data": [_chart_value(row["first_bookings"]["count"]) for row in daily]},
        ],
    }
    return {
        "period": period,
        "previous": before,
        "now": _totals(now_rows),
        "before": _totals(before_rows),
        "active": _shown(latest.active_companions) if latest else None,
        "active_day": latest.day if latest else None,
        "daily": daily,
        "chart": chart,
        "cohorts": _cohort_table(list(CohortRetention.objects.all()), today),
        "months": list(range(MONTHS_SHOWN)),
    }


# --- CSV ------------------------------------------------------------------------------------------------------

PEOPLE_EXPORTS = ("people", "cohorts")


def _cell(count: int) -> int | str:
    """A count of people as written: 0 stays 0, 1-4 become "< 5"."""
    return suppress(count) if count else 0


def people_csv(figures: dict, name: str) -> tuple[list[str], list[list]]:
    """(header, rows) of one of PEOPLE_EXPORTS: "people" (per day) or "cohorts" (one row per cohort × month)."""
    if name == "people":
        header = [_("Day"), _("New customers"), _("New companions"), _("First bookings")]
        rows = [[row["day"], *(_cell(row[key]["count"]) for key in COUNTS)] for row in figures["daily"]]
        return header, rows
    if name == "cohorts":
        header = [_("Cohort"), _("Customers in the cohort"), _("Months after"), _("Customers"), _("Share (%)")]
        rows = []
        for cohort in figures["cohorts"]:
            for cell in cohort["cells"]:
                if cell is None:
                    continue
                share = "" if cell["share"] is None else cell["share"]
                rows.append(
                    [
                        cohort["cohort"].strftime("%Y-%m"),
                        _cell(cohort["size"]),
                        cell["months_after"],
                        _cell(cell["customers"]),
                        share,
                    ]
                )
        return header, rows
    raise ValueError(f"unknown export {name!r}")
