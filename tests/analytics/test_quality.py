"""Trust and messaging on the dashboard (analytics/quality.py) against hand-computed figures: stars of published
customers' reviews, disputes (by the day the booking became disputed), safety reports of both kinds, WhatsApp
by status, the level snapshot, per-100 rates, the WhatsApp cost per booking with the price set, small cells,
the query count, the CSV rows and the partial."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from analytics.models import DailyQuality, LevelCount
from analytics.quality import (
    compute_levels,
    compute_quality,
    quality_csv,
    quality_figures,
    rollup_levels,
    rollup_quality,
)
from analytics.selectors import Period
from bookings import services as booking_services
from companions.models import CompanionProfile, Level, VerificationStatus
from notifications.models import Delivery
from reviews.models import Direction, Review, SafetyReport
from safety.models import PersonReport
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
DAY = START.astimezone(WIB).date()  # Thursday 26 November 2026: the bookings' day
NOON = datetime.combine(DAY, datetime.min.time(), tzinfo=WIB) + timedelta(hours=12)
LATER = NOON + timedelta(hours=10)  # when the day is computed
S = Delivery.Status


def paid_booking(profile, start):
    booking = request(new_customer(), profile, start)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    return booking_services.booking_mark_paid(booking_id=booking.pk, now=NOW + timedelta(minutes=5))


def review(booking, overall, *, direction=Direction.OF_COMPANION, published=NOON, **extra):
    author, subject = booking.customer, booking.companion.user
    if direction == Direction.OF_CUSTOMER:
        author, subject = subject, author
    return Review.objects.create(
        booking=booking,
        direction=direction,
        author=author,
        subject=subject,
        companion=booking.companion,
        overall=overall,
        punctuality=overall,
        communication=overall,
        as_described=overall,
        respected_boundaries=overall,
        created_at=published - timedelta(hours=1),
        window_closes_at=published + timedelta(days=14),
        published_at=published,
        **extra,
    )


def seed_the_day():
    profile = make_companion()
    bookings = [paid_booking(profile, START + timedelta(days=offset)) for offset in range(6)]
    # Stars that day: 5, 5, 4, 1 from customers; a hidden 3, a companion's 2 and yesterday's 5 not counted.
    review(bookings[0], 5)
    review(bookings[1], 5)
    review(bookings[2], 4)
    low = review(bookings[3], 1)
    review(bookings[4], 3, hidden_at=NOON, hidden_reason="Kasar")
    review(bookings[0], 2, direction=Direction.OF_CUSTOMER)
    review(bookings[5], 5, published=NOON - timedelta(days=1))
    # One dispute opened that day (its booking started at 10:00), through the service.
    booking_services.booking_dispute(
        booking_id=bookings[0].pk, actor=bookings[0].customer, reason="Pendamping datang terlambat sekali", now=NOON
    )
    # Safety reports: one with a review, one about a person that day; one about a person the day before.
    SafetyReport.objects.create(review=low, details="Membuat saya tidak nyaman", created_at=NOON)
    customer, companion = bookings[1].customer, profile.user
    PersonReport.objects.create(
        reporter=customer, reported=companion, category="harassment", description="Kasar", created_at=NOON
    )
    PersonReport.objects.create(
        reporter=companion,
        reported=customer,
        category="no_show",
        description="Tidak datang",
        created_at=NOON - timedelta(days=1),
    )
    # WhatsApp: sent = sent + delivered + read (3); delivered = delivered + read (2); failed = 2; pending none.
    for status in (S.SENT, S.DELIVERED, S.READ, S.FAILED, S.UNDELIVERED, S.PENDING):
        Delivery.objects.create(
            recipient=customer,
            channel="whatsapp",
            to="+6281200000000",
            template_key="x",
            status=status,
            created_at=NOON,
        )
    Delivery.objects.create(
        recipient=customer, channel="email", to="a@example.id", template_key="x", status=S.SENT, created_at=NOON
    )
    Delivery.objects.create(
        recipient=customer,
        channel="whatsapp",
        to="+6281200000000",
        template_key="x",
        status=S.READ,
        created_at=NOON - timedelta(days=1),
    )
    return profile, bookings


def figures_of(row: DailyQuality) -> dict:
    return {
        name: getattr(row, name)
        for name in (
            "stars_1",
            "stars_2",
            "stars_3",
            "stars_4",
            "stars_5",
            "disputes",
            "safety_reports",
            "whatsapp_sent",
            "whatsapp_delivered",
            "whatsapp_failed",
        )
    }


HAND_COMPUTED = {
    "stars_1": 1,
    "stars_2": 0,
    "stars_3": 0,
    "stars_4": 1,
    "stars_5": 2,
    "disputes": 1,
    "safety_reports": 2,
    "whatsapp_sent": 3,
    "whatsapp_delivered": 2,
    "whatsapp_failed": 2,
}


def test_a_day_against_hand_computed_figures_twice_the_same():
    seed_the_day()
    assert figures_of(compute_quality(DAY, now=LATER, using="default")) == HAND_COMPUTED
    assert rollup_quality(DAY, now=LATER) == 1
    first = list(DailyQuality.objects.values())
    rollup_quality(DAY, now=LATER)
    assert (
        list(DailyQuality.objects.values("day", *HAND_COMPUTED))
        == [{"day": DAY, **HAND_COMPUTED}]
        == [{k: r[k] for k in ("day", *HAND_COMPUTED)} for r in first]
    )
    assert DailyQuality.objects.count() == 1


def test_levels_snapshot_only_for_today_or_yesterday():
    gold = make_companion()
    CompanionProfile.objects.filter(pk=gold.pk).update(level=Level.GOLD)
    make_companion()
    pending = make_companion()
    CompanionProfile.objects.filter(pk=pending.pk).update(verification_status=VerificationStatus.PENDING)
    assert [(row.level, row.companions) for row in compute_levels(using="default")] == [
        ("baru", 1),
        ("silver", 0),
        ("gold", 1),
        ("platinum", 0),
    ]
    today = NOW.astimezone(WIB).date()
    assert rollup_levels(today - timedelta(days=1), now=NOW) == 4
    assert rollup_levels(today - timedelta(days=1), now=NOW) == 4  # replaced, not added
    assert LevelCount.objects.count() == 4
    CompanionProfile.objects.filter(pk=pending.pk).update(verification_status=VerificationStatus.APPROVED)
    assert rollup_levels(today - timedelta(days=1), now=NOW + timedelta(days=10)) == 0  # an old day: kept
    assert LevelCount.objects.get(day=today - timedelta(days=1), level="baru").companions == 1


def stored(day, **fields):
    return DailyQuality.objects.create(day=day, computed_at=NOW, **fields)


@override_settings(WHATSAPP_PRICE_PER_MESSAGE=350)
def test_figures_rates_cost_small_cells_csv_and_the_partial():
    stored(
        DAY - timedelta(days=1),
        stars_5=9,
        stars_4=2,
        stars_1=2,
        disputes=3,
        safety_reports=5,
        whatsapp_sent=60,
        whatsapp_delivered=55,
        whatsapp_failed=4,
    )
    stored(DAY, stars_5=3, stars_4=4, whatsapp_sent=40, whatsapp_delivered=38, whatsapp_failed=6)
    stored(DAY - timedelta(days=30), stars_1=50, whatsapp_sent=999)  # outside the period
    for level, count in (("baru", 30), ("silver", 3), ("gold", 0), ("platinum", 0)):
        LevelCount.objects.create(day=DAY - timedelta(days=2), level=level, companions=count)
    LevelCount.objects.create(day=DAY - timedelta(days=20), level="baru", companions=1)
    period = Period(DAY - timedelta(days=6), DAY)
    figures = quality_figures(period=period, paid_bookings=80, today=DAY + timedelta(days=1), now=LATER)
    ratings = {row["stars"]: row for row in figures["ratings"]}
    assert ratings[5] == {"stars": 5, "count": 12, "small": False, "share": 60.0}  # 12 of 20
    assert ratings[4] == {"stars": 4, "count": 6, "small": False, "share": 30.0}
    assert ratings[1] == {"stars": 1, "count": 2, "small": True, "share": None}
    assert ratings[2]["share"] == 0.0
    assert figures["disputes"] == {"count": 3, "small": True}
    assert figures["disputes_per_100"] is None  # 3 disputes would show through
    assert figures["safety_reports_per_100"] == 6.2  # 5 per 80 paid bookings
    whatsapp = figures["whatsapp"]
    assert (whatsapp["sent"], whatsapp["delivered"], whatsapp["failed"]) == (100, 93, 10)
    assert whatsapp["failure_rate"] == 9.1  # 10 of 110
    assert whatsapp["cost_per_booking"] == 438  # Rp 350 x 100 messages / 80 bookings = 437.5
    assert [(row["level"], row["count"], row["small"]) for row in figures["levels"]] == [
        ("baru", 30, False),
        ("silver", 3, True),
        ("gold", 0, False),
        ("platinum", 0, False),
    ]
    assert figures["ratings_chart"]["series"][0]["data"] == [None, 0, 0, 6, 12]
    assert figures["levels_chart"]["series"][0]["data"] == [30, None, 0, 0]
    with translation.override("en"):
        html = render_to_string("analytics/_quality.html", {"quality": figures})
    assert 'data-testid="whatsapp-cost">Rp' in html and "438" in html
    assert '<tr data-testid="stars-1"><th scope="row">1 ★</th>\n      <td data-testid="count">&lt; 5<' in html
    assert 'data-testid="disputes">&lt; 5<' in html
    assert 'data-testid="safety-reports-per-100">6.2<' in html
    assert 'data-chart="chart-ratings-data"' in html and 'data-chart="chart-levels-data"' in html
    assert "the city and activity filters do not apply" in html
    header, rows = quality_csv(figures, "ratings")
    assert rows[0] == [period.start, period.end, 1, "< 5", ""]
    assert rows[4] == [period.start, period.end, 5, 12, 60.0]
    header, rows = quality_csv(figures, "whatsapp")
    assert rows == [[period.start, period.end, 100, 93, 10, 9.1, 438]]
    header, rows = quality_csv(figures, "levels")
    assert rows[:2] == [[DAY - timedelta(days=2), "Baru", 30], [DAY - timedelta(days=2), "Silver", "< 5"]]


def test_no_price_no_cost():
    stored(DAY, whatsapp_sent=40)
    with override_settings(WHATSAPP_PRICE_PER_MESSAGE=0):
        figures = quality_figures(period=Period(DAY, DAY), paid_bookings=10, today=DAY + timedelta(days=1), now=LATER)
    assert figures["whatsapp"]["cost_per_booking"] is None
    html = render_to_string("analytics/_quality.html", {"quality": figures})
    assert 'data-testid="whatsapp-cost"' not in html
    assert 'data-testid="whatsapp-no-price"' in html


def test_today_is_computed_live_in_a_constant_number_of_queries():
    stored(DAY, stars_5=99)  # a stale row for today: not read
    period = Period(DAY - timedelta(days=29), DAY)
    with CaptureQueriesContext(connection) as empty:
        figures = quality_figures(period=period, paid_bookings=6, today=DAY, now=LATER)
    assert figures["ratings"][4]["count"] == 0
    seed_the_day()
    for offset in range(1, 20):
        stored(DAY - timedelta(days=offset), stars_5=offset, whatsapp_sent=offset)
    LevelCount.objects.create(day=DAY - timedelta(days=1), level="baru", companions=7)
    with CaptureQueriesContext(connection) as full:
        figures = quality_figures(period=period, paid_bookings=6, today=DAY, now=LATER)
    assert figures["ratings"][4]["count"] == 2 + sum(range(1, 20))  # today's two live, the stored days
    assert figures["whatsapp"]["failed"] == 2
    assert len(full.captured_queries) == len(empty.captured_queries) == 7  # 5 for today, the days, the levels
