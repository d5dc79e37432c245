"""What the dashboard shows of bookings and money, read from the rollups only: four queries whatever the
range (the period's totals, the comparison period's totals, the period's money per day, paid products by
kind). Today has no stored rollup yet: when the period reaches today, today's figures are computed live from
its own bookings and purchases (analytics.rollups.compute_day, through indexes: five more queries) and added
to the stored days before it."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import get_language

from analytics.models import DailyProductSales, DailyRollup
from analytics.rollups import compute_day, compute_product_sales
from products.models import Product

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
MONEY = ("gmv", "service_fees", "commission", "discounts", "refunds")
FIELDS = COUNTS + MONEY + ("accept_minutes",)
NET_PARTS = (("service_fees", 1), ("commission", 1), ("discounts", -1), ("refunds", -1))


# The rollups change only when a rollup runs (nightly, or the command): the figures of a range without today are
# kept in the cache until then (a version the rollups bump), for an hour at most. The cache is an optimisation:
# down, the figures are computed every time.
FIGURES_CACHE_SECONDS = 3600
VERSION_KEY = "analytics:rollups-version"


def rollups_changed() -> None:
    """Called after rollups were written: cached dashboard figures are not used again."""
    cache.set(VERSION_KEY, timezone.now().timestamp(), None)


def cached_figures(compute, *, period: "Period", city, activity, today: date):
    """`compute()`'s figures, from the cache when the range ends before today (no live part) and the rollups
    have not changed since; a range reaching today is always computed."""
    if period.includes(today) or period.end > today:
        return compute()
    version = cache.get(VERSION_KEY) or 0
    key = ":".join(
        (
            "analytics:figures",
            str(version),
            today.isoformat(),
            period.start.isoformat(),
            period.end.isoformat(),
            str(city.pk if city else ""),
            str(activity.pk if activity else ""),
            get_language() or "",
        )
    )
    figures = cache.get(key)
    if figures is None:
        figures = compute()
        cache.set(key, figures, FIGURES_CACHE_SECONDS)
    return figures


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def includes(self, day: date) -> bool:
        return self.start <= day <= self.end

    def before(self) -> "Period":
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)


def is_small(count: int) -> bool:
    return 0 < count < SMALL_CELL


def _filter(period: Period, city, activity, *, today: date | None = None) -> Q:
    """The stored rows of the period (without today's, which are computed live)."""
    where = Q(day__gte=period.start, day__lte=period.end)
    if today is not None and period.includes(today):
        where &= Q(day__lt=today)
    if city is not None:
        where &= Q(city=city)
    if activity is not None:
        where &= Q(activity=activity)
    return where


def _live(period: Period, city, activity, today: date | None) -> list[DailyRollup]:
    if today is None or not period.includes(today):
        return []
    rows = compute_day(today, now=timezone.now())
    return [
        row
        for row in rows
        if (city is None or row.city_id == city.pk) and (activity is None or row.activity_id == activity.pk)
    ]


def net_revenue(figures: dict) -> int:
    """Service fees + commission − discounts − what went back of our part in refunds."""
    return sum(int(figures.get(name) or 0) * sign for name, sign in NET_PARTS)


def _totals(period: Period, city, activity, *, today=None, live=()) -> dict[str, int]:
    where = _filter(period, city, activity, today=today)
    sums = DailyRollup.objects.filter(where).aggregate(**{name: Sum(name) for name in FIELDS})
    totals = {name: int(sums[name] or 0) + sum(getattr(row, name) for row in live) for name in FIELDS}
    totals["net"] = net_revenue(totals)
    totals["accept_average"] = round(totals["accept_minutes"] / totals["accepted"]) if totals["accepted"] else None
    return totals


def _products(period: Period, today: date | None) -> dict:
    """Paid products in the period by kind (platform-wide: the filters do not apply)."""
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: {"purchases": 0, "sales": 0, "refunds": 0})
    where = Q(day__gte=period.start, day__lte=period.end)
    if today is not None and period.includes(today):
        where &= Q(day__lt=today)
    rows = (
        DailyProductSales.objects.filter(where)
        .values("kind")
        .annotate(purchases=Sum("purchases"), sales=Sum("sales"), refunds=Sum("refunds"))
        .order_by("kind")
    )
    for row in rows:
        for name in ("purchases", "sales", "refunds"):
            kinds[row["kind"]][name] += int(row[name] or 0)
    if today is not None and period.includes(today):
        for row in compute_product_sales(today, now=timezone.now()):
            for name in ("purchases", "sales", "refunds"):
                kinds[row.kind][name] += getattr(row, name)
    return {
        "kinds": [
            {
                "kind": kind,
                "label": str(Product(kind).label) if kind in Product.values else kind,
                **figures,
                "small": is_small(figures["purchases"]),
                "net": figures["sales"] - figures["refunds"],
            }
            for kind, figures in sorted(kinds.items())
        ],
        "net": sum(figures["sales"] - figures["refunds"] for figures in kinds.values()),
    }


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def paid_requests(*, period: Period, today: date | None = None) -> int:
    """Requests of the period that were paid, all cities and activities (the per-100 rates' base)."""
    return _totals(period, None, None, today=today, live=_live(period, None, None, today))["paid"]


def dashboard_figures(*, period: Period, city=None, activity=None, today: date | None = None) -> dict:
    """The bookings and money figures; `today` (the current Jakarta date) is computed live when in the period."""
    live = _live(period, city, activity, today)
    now = _totals(period, city, activity, today=today, live=live)
    before = _totals(period.before(), city, activity)
    rows = (
        DailyRollup.objects.filter(_filter(period, city, activity, today=today))
        .values("day")
        .annotate(**{name: Sum(name) for name in ("gmv", "service_fees", "commission", "discounts", "refunds")})
        .order_by("day")
    )
    by_day: dict[date, dict] = {row["day"]: row for row in rows}
    if live:
        by_day[today] = {
            name: sum(getattr(row, name) for row in live)
            for name in ("gmv", "service_fees", "commission", "discounts", "refunds")
        }
    daily = []
    for offset in range(period.days):
        day = period.start + timedelta(days=offset)
        row = by_day.get(day, {})
        daily.append({"day": day, "gmv": int(row.get("gmv") or 0), "net": net_revenue(row)})

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
                "conversion": None if previous is None or hidden else share(count, previous),
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
                "share": None if is_small(count) or is_small(now["requests"]) else share(count, now["requests"]),
            }
        )
    products = _products(period, today)
    return {
        "products": products,
        "live": today is not None and period.includes(today),
        "net_with_products": now["net"] + products["net"],
        "take_rate": share(now["net"], now["gmv"]),
        "period": period,
        "previous": period.before(),
        "now": now,
        "before": before,
        "daily": daily,
        "steps": steps,
        "losses": losses,
    }
