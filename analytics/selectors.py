"""What the dashboard shows, read from DailyRollup only: three queries whatever the range (the period's
totals, the comparison period's totals, the period's money per day)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, Sum

from analytics.models import DailyRollup

SMALL_CELL = 5  # counts of people under this are shown as "< 5"
COUNTS = (
    "requests",
    "accepted",
    "paid",
    "completed",
    "declined",
    "unanswered",
    "unpaid",
    "cancelled_by_customer",
    "cancelled_by_companion",
    "withdrawn",
)
MONEY = ("gmv", "service_fees", "commission", "discounts")
FIELDS = COUNTS + MONEY + ("accept_minutes",)


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> "Period":
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)


def is_small(count: int) -> bool:
    return 0 < count < SMALL_CELL


def _filter(period: Period, city, activity) -> Q:
    where = Q(day__gte=period.start, day__lte=period.end)
    if city is not None:
        where &= Q(city=city)
    if activity is not None:
        where &= Q(activity=activity)
    return where


def _totals(period: Period, city, activity) -> dict[str, int]:
    sums = DailyRollup.objects.filter(_filter(period, city, activity)).aggregate(**{name: Sum(name) for name in FIELDS})
    totals = {name: int(sums[name] or 0) for name in FIELDS}
    totals["net"] = totals["service_fees"] + totals["commission"] - totals["discounts"]
    totals["accept_average"] = round(totals["accept_minutes"] / totals["accepted"]) if totals["accepted"] else None
    return totals


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def dashboard_figures(*, period: Period, city=None, activity=None) -> dict:
    now = _totals(period, city, activity)
    before = _totals(period.before(), city, activity)
    rows = (
        DailyRollup.objects.filter(_filter(period, city, activity))
        .values("day")
        .annotate(
            gmv=Sum("gmv"), service_fees=Sum("service_fees"), commission=Sum("commission"), discounts=Sum("discounts")
        )
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    daily = []
    for offset in range(period.days):
        day = period.start + timedelta(days=offset)
        row = by_day.get(day, {})
        gmv = int(row.get("gmv") or 0)
        net = int(row.get("service_fees") or 0) + int(row.get("commission") or 0) - int(row.get("discounts") or 0)
        daily.append({"day": day, "gmv": gmv, "net": net})

    steps = []
    previous = None
    for name in ("requests", "accepted", "paid", "completed"):
        count = now[name]
        hidden = is_small(count) or (previous is not None and is_small(previous))
        steps.append(
            {
                "name": name,
                "count": count,
                "small": is_small(count),
                "before": before[name],
                "before_small": is_small(before[name]),
                # The share of the step before that reached this one (none for the first step).
                "conversion": None if previous is None or hidden else _share(count, previous),
            }
        )
        previous = count
    losses = []
    for name in ("declined", "unanswered", "unpaid", "cancelled_by_customer", "cancelled_by_companion", "withdrawn"):
        count = now[name]
        losses.append(
            {
                "name": name,
                "count": count,
                "small": is_small(count),
                "share": None if is_small(count) or is_small(now["requests"]) else _share(count, now["requests"]),
            }
        )
    return {
        "period": period,
        "previous": period.before(),
        "now": now,
        "before": before,
        "daily": daily,
        "steps": steps,
        "losses": losses,
    }
