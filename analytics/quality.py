"""Trust and messaging on the dashboard (issue 18), platform-wide: the stars of customers' reviews of companions,
disputes and safety reports per 100 paid bookings, WhatsApp deliveries (and their cost per booking when
WHATSAPP_PRICE_PER_MESSAGE is set) and the companions' levels.

- `rollup_quality(day)` replaces the day's DailyQuality row (idempotent): reviews by the day they were
  published (hidden ones left out), disputes by the day the booking became disputed (its BookingEvent), safety
  reports (about a person, and with a review) by the day they were made, WhatsApp messages by the day they
  were created, counted by their status when the day is computed.
- `rollup_levels(day)` stores how many verified companions hold each level: a snapshot of now, so it is
  written only for today or yesterday (a recompute of an older day keeps what was stored then)."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from analytics.csv_export import suppress
from analytics.models import DailyQuality, LevelCount
from analytics.people import takes_snapshot
from analytics.reading import source
from analytics.rollups import day_bounds, replace_day_row
from analytics.selectors import Period, is_small
from bookings.models import BookingEvent, BookingStatus
from companions.models import CompanionProfile, Level, VerificationStatus
from notifications.models import Channel, Delivery
from reviews.models import Direction, Review
from reviews.models import SafetyReport as ReviewSafetyReport
from safety.models import PersonReport

STARS = (1, 2, 3, 4, 5)
SENT = (Delivery.Status.SENT, Delivery.Status.DELIVERED, Delivery.Status.READ)
DELIVERED = (Delivery.Status.DELIVERED, Delivery.Status.READ)
FAILED = (Delivery.Status.FAILED, Delivery.Status.UNDELIVERED)
WHATSAPP = ("whatsapp_sent", "whatsapp_delivered", "whatsapp_failed")
FIELDS = (*(f"stars_{stars}" for stars in STARS), "disputes", "safety_reports", *WHATSAPP)


def compute_quality(day: date, *, now: datetime, using: str) -> DailyQuality:
    """The day's row, unsaved: five aggregate queries."""
    start, end = day_bounds(day)
    stars = (
        Review.objects.using(using)
        .filter(direction=Direction.OF_COMPANION, published_at__gte=start, published_at__lt=end, hidden_at=None)
        .aggregate(**{f"stars_{n}": Count("pk", filter=Q(overall=n)) for n in STARS})
    )
    disputes = (
        BookingEvent.objects.using(using)
        .filter(to_status=BookingStatus.DISPUTED, created_at__gte=start, created_at__lt=end)
        .aggregate(n=Count("booking_id", distinct=True))["n"]
    )
    person_reports = PersonReport.objects.using(using).filter(created_at__gte=start, created_at__lt=end)
    review_reports = ReviewSafetyReport.objects.using(using).filter(created_at__gte=start, created_at__lt=end)
    reports = person_reports.count() + review_reports.count()
    whatsapp = (
        Delivery.objects.using(using)
        .filter(channel=Channel.WHATSAPP, created_at__gte=start, created_at__lt=end)
        .aggregate(
            whatsapp_sent=Count("pk", filter=Q(status__in=SENT)),
            whatsapp_delivered=Count("pk", filter=Q(status__in=DELIVERED)),
            whatsapp_failed=Count("pk", filter=Q(status__in=FAILED)),
        )
    )
    return DailyQuality(day=day, **stars, disputes=disputes, safety_reports=reports, **whatsapp, computed_at=now)


def rollup_quality(day: date, *, now: datetime | None = None, using: str | None = None) -> int:
    """Recomputes `day` (Jakarta) into DailyQuality, replacing its row; returns 1."""
    now = now or timezone.now()
    return replace_day_row(compute_quality(day, now=now, using=using or source()))


def compute_levels(*, using: str) -> list[LevelCount]:
    """Verified companions (identity approved, account active) per level, every level in rank order (0 kept),
    unsaved and without a day: one grouped query."""
    counts = dict(
        CompanionProfile.objects.using(using)
        .filter(verification_status=VerificationStatus.APPROVED, user__is_active=True)
        .values_list("level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [LevelCount(level=level, companions=counts.get(level, 0)) for level in Level.values]


def rollup_levels(day: date, *, now: datetime | None = None, using: str | None = None) -> int:
    """Stores today's level counts as `day`'s, when `day` is today or yesterday (Jakarta); for an older day
    nothing is written (its snapshot stays as taken). Returns the rows written."""
    now = now or timezone.now()
    if not takes_snapshot(day, now):
        return 0
    rows = compute_levels(using=using or source())
    for row in rows:
        row.day = day
    with transaction.atomic():
        LevelCount.objects.filter(day=day).delete()
        LevelCount.objects.bulk_create(rows)
    return len(rows)


# --- What the dashboard shows -------------------------------------------------------------------------------


def _per_100(count: int, paid: int) -> float | None:
    """Per 100 paid bookings; not shown when the count is a small cell (it would give the count away)."""
    if not paid or is_small(count):
        return None
    return round(100 * count / paid, 1)


def _chart_value(count: int) -> int | None:
    return None if is_small(count) else count


def quality_figures(*, period: Period, paid_bookings: int, today: date, now: datetime) -> dict:
    """The quality section for the period: ratings, disputes and safety reports per 100 of `paid_bookings`
    (the period's paid bookings, from the booking rollup), WhatsApp and its cost per booking, and the latest
    level counts; charts under "ratings_chart" and "levels_chart" (for json_script). Three queries, plus
    today's live count when the period includes today."""
    rows = list(DailyQuality.objects.filter(day__gte=period.start, day__lte=period.end).exclude(day=today))
    if period.start <= today <= period.end:
        rows.append(compute_quality(today, now=now, using=source()))
    totals = {name: sum(getattr(row, name) for row in rows) for name in FIELDS}
    reviews = sum(totals[f"stars_{n}"] for n in STARS)
    ratings = [
        {
            "stars": n,
            "count": totals[f"stars_{n}"],
            "small": is_small(totals[f"stars_{n}"]),
            "share": None
            if is_small(totals[f"stars_{n}"]) or not reviews
            else round(100 * totals[f"stars_{n}"] / reviews, 1),
        }
        for n in STARS
    ]
    sent, failed = totals["whatsapp_sent"], totals["whatsapp_failed"]
    price = int(getattr(settings, "WHATSAPP_PRICE_PER_MESSAGE", 0) or 0)
    latest = LevelCount.objects.filter(
        day=Subquery(LevelCount.objects.filter(day__lte=today).order_by("-day").values("day")[:1])
    )
    by_level = {row.level: row for row in latest}
    levels = [
        {
            "level": level,
            "label": label,
            "count": by_level[level].companions if level in by_level else None,
            "small": level in by_level and is_small(by_level[level].companions),
        }
        for level, label in Level.choices
    ]
    levels_day = next(iter(by_level.values())).day if by_level else None
    return {
        "period": period,
        "paid_bookings": paid_bookings,
        "reviews": {"count": reviews, "small": is_small(reviews)},
        "ratings": ratings,
        "disputes": {"count": totals["disputes"], "small": is_small(totals["disputes"])},
        "disputes_per_100": _per_100(totals["disputes"], paid_bookings),
        "safety_reports": {"count": totals["safety_reports"], "small": is_small(totals["safety_reports"])},
        "safety_reports_per_100": _per_100(totals["safety_reports"], paid_bookings),
        "whatsapp": {
            "sent": sent,
            "delivered": totals["whatsapp_delivered"],
            "failed": failed,
            # Of the messages that reached an outcome (sent on, or failed), the share that failed.
            "failure_rate": round(100 * failed / (sent + failed), 1) if sent + failed else None,
            "price": price or None,
            "cost_per_booking": round(price * sent / paid_bookings) if price and paid_bookings else None,
        },
        "levels": levels if by_level else [],
        "levels_day": levels_day,
        "ratings_chart": {
            "type": "bar",
            "labels": [
                ngettext("%(stars)d star", "%(stars)d stars", row["stars"]) % {"stars": row["stars"]} for row in ratings
            ],
            "series": [{"label": _("Reviews"), "data": [_chart_value(row["count"]) for row in ratings]}],
        },
        "levels_chart": {
            "type": "bar",
            "labels": [row["label"] for row in levels],
            "series": [
                {
                    "label": _("Verified companions"),
                    "data": [None if row["count"] is None else _chart_value(row["count"]) for row in levels],
                }
            ],
        },
    }


# --- CSV ------------------------------------------------------------------------------------------------------

QUALITY_EXPORTS = ("ratings", "whatsapp", "levels")


def _cell(count: int) -> int | str:
    """A count of people as written: 0 stays 0, 1-4 become "< 5"."""
    return suppress(count) if count else 0


def quality_csv(figures: dict, name: str) -> tuple[list[str], list[list]]:
    """(header, rows) of one of QUALITY_EXPORTS."""
    period = figures["period"]
    scope = [period.start, period.end]
    if name == "ratings":
        header = [_("From"), _("To"), _("Stars"), _("Reviews"), _("Share (%)")]
        rows = [
            [*scope, row["stars"], _cell(row["count"]), "" if row["share"] is None else row["share"]]
            for row in figures["ratings"]
        ]
        return header, rows
    if name == "whatsapp":
        whatsapp = figures["whatsapp"]
        header = [
            _("From"),
            _("To"),
            _("Sent"),
            _("Delivered"),
            _("Failed"),
            _("Failure rate (%)"),
            _("Cost per paid booking (Rp)"),
        ]
        rate, cost = whatsapp["failure_rate"], whatsapp["cost_per_booking"]
        row = [
            *scope,
            whatsapp["sent"],
            whatsapp["delivered"],
            whatsapp["failed"],
            "" if rate is None else rate,
            "" if cost is None else cost,
        ]
        return header, [row]
    if name == "levels":
        header = [_("Day"), _("Level"), _("Verified companions")]
        day = figures["levels_day"]
        return header, [[day, row["label"], _cell(row["count"] or 0)] for row in figures["levels"]]
    raise ValueError(f"unknown export {name!r}")
