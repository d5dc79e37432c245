"""People on the dashboard (analytics/people.py) against hand-computed figures: sign-ups, first bookings and the
hours before them, active companions (checked against the availability engine), the snapshot kept on a
recompute of an older day, cohort retention in Jakarta months with a late refund and a next-month booking,
small cells, the query count, the CSV rows and the partial."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.models import User
from analytics import people
from analytics.models import CohortRetention, DailyPeople
from analytics.people import (
    active_companions,
    compute_people,
    people_csv,
    people_figures,
    rollup_cohorts,
    rollup_people,
)
from analytics.selectors import Period
from bookings import services as booking_services
from companions import selectors
from companions.models import CompanionProfile, TimeOff
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.factories import CompanionFactory, StaffFactory

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
DAY = NOW.astimezone(WIB).date()  # Tuesday 24 November 2026 (NOW is 08:00 WIB)
MIDNIGHT = datetime.combine(DAY, datetime.min.time(), tzinfo=WIB)


def joined(user, moment):
    User.objects.filter(pk=user.pk).update(date_joined=moment)
    return user


def seed_the_day():
    """Two first bookings (8 h and 48 h after sign-up), a returning customer, a sign-up without a booking,
    staff (not counted), two new companions; one companion active, two not."""
    profile = make_companion()
    joined(profile.user, MIDNIGHT + timedelta(hours=1))
    joined(CompanionFactory(), MIDNIGHT + timedelta(hours=2))  # signed up as a companion, no profile yet
    joined(StaffFactory(), MIDNIGHT + timedelta(hours=3))
    first = joined(new_customer(), MIDNIGHT)  # first booking at 08:00: 8 hours
    request(first, profile, START)
    request(first, profile, START + timedelta(days=1), now=NOW + timedelta(hours=2))  # their second that day
    early = joined(new_customer(), MIDNIGHT - timedelta(days=2) + timedelta(hours=8))  # 48 hours
    request(early, profile, START + timedelta(days=2))
    returning = joined(new_customer(), MIDNIGHT - timedelta(days=30))
    request(returning, profile, START + timedelta(days=3), now=NOW - timedelta(days=1))
    request(returning, profile, START + timedelta(days=4))
    joined(new_customer(), MIDNIGHT + timedelta(hours=5))  # signed up, no booking
    # Not active: on time off for the whole week; not listed.
    away = make_companion()
    TimeOff.objects.create(profile=away, start_date=DAY, end_date=DAY + timedelta(days=8))
    hidden = make_companion()
    CompanionProfile.objects.filter(pk=hidden.pk).update(is_listed=False)
    for other in (away, hidden):
        joined(other.user, MIDNIGHT - timedelta(days=60))
    return profile


def test_a_day_against_hand_computed_figures():
    seed_the_day()
    row = compute_people(DAY, now=NOW, using="default")
    assert (row.new_customers, row.new_companions) == (2, 2)  # `first` and the one without a booking; staff not
    assert (row.first_bookings, row.signup_to_first_hours) == (2, 8 + 48)
    assert row.active_companions == 1
    assert row.pk is None  # unsaved


def test_active_companions_agree_with_the_availability_engine():
    seed_the_day()
    make_companion(min_hours=3)  # another minimum, another branch
    engine = sum(
        any(day.starts for day in selectors.free_slots_by_day(profile, days=7, now=NOW))
        for profile in selectors.listed_profiles().prefetch_related("weekly_hours", "time_off")
    )
    assert engine == 2
    assert active_companions(now=NOW, using="default") == engine


def test_rollup_twice_the_same_and_an_older_day_keeps_its_snapshot():
    seed_the_day()
    assert rollup_people(DAY, now=NOW) == 1
    first = list(DailyPeople.objects.values())
    rollup_people(DAY, now=NOW)
    assert [dict(r, id=None) for r in DailyPeople.objects.values()] == [dict(r, id=None) for r in first]
    # A week later the day is recomputed: the counts again, the snapshot as it was taken.
    make_companion()
    rollup_people(DAY, now=NOW + timedelta(days=7))
    row = DailyPeople.objects.get(day=DAY)
    assert (row.active_companions, row.first_bookings) == (1, 2)
    # A day rolled up late for the first time has no snapshot; yesterday's is taken.
    rollup_people(DAY - timedelta(days=3), now=NOW)
    assert DailyPeople.objects.get(day=DAY - timedelta(days=3)).active_companions is None
    rollup_people(DAY - timedelta(days=1), now=NOW)
    assert DailyPeople.objects.get(day=DAY - timedelta(days=1)).active_companions == 2  # with the new one


def paid_at(customer, profile, start, moment):
    """A booking paid at `moment` (requested an hour before, accepted half an hour before)."""
    booking = request(customer, profile, start, now=moment - timedelta(hours=1))
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=moment - timedelta(minutes=30))
    return booking_services.booking_mark_paid(booking_id=booking.pk, now=moment)


def cells():
    return list(
        CohortRetention.objects.order_by("cohort", "months_after").values_list("cohort", "months_after", "customers")
    )


def test_cohorts_hand_computed_with_a_late_refund_and_a_next_month_booking():
    profile = make_companion(horizon_days=120)
    october, november = date(2026, 10, 1), date(2026, 11, 1)
    a, b, c, d = (new_customer() for _ in range(4))
    paid_at(a, profile, datetime(2026, 10, 20, 10, tzinfo=WIB), datetime(2026, 10, 15, 12, tzinfo=WIB))
    paid_at(a, profile, datetime(2026, 12, 5, 10, tzinfo=WIB), datetime(2026, 11, 20, 12, tzinfo=WIB))
    # 1 November 00:30 in Jakarta is still 31 October in UTC: a November customer.
    paid_at(b, profile, datetime(2026, 11, 10, 10, tzinfo=WIB), datetime(2026, 11, 1, 0, 30, tzinfo=WIB))
    refunded = paid_at(c, profile, datetime(2026, 12, 10, 10, tzinfo=WIB), datetime(2026, 10, 25, 12, tzinfo=WIB))
    request(d, profile, datetime(2026, 12, 12, 10, tzinfo=WIB), now=datetime(2026, 11, 20, tzinfo=WIB))  # never paid
    assert rollup_cohorts(now=NOW) == 3
    assert cells() == [(october, 0, 2), (october, 1, 1), (november, 0, 1)]
    assert rollup_cohorts(now=NOW) == 3
    assert cells() == [(october, 0, 2), (october, 1, 1), (november, 0, 1)]
    # The companion cancels C's booking in November (a full refund): C paid in October, still October's.
    booking_services.booking_cancel(
        booking_id=refunded.pk, actor=profile.user, reason="Sakit mendadak", now=datetime(2026, 11, 3, tzinfo=WIB)
    )
    refunded.refresh_from_db()
    assert refunded.refund_amount == refunded.total
    rollup_cohorts(now=NOW)
    assert cells() == [(october, 0, 2), (october, 1, 1), (november, 0, 1)]
    # C books and pays again in November: October's month 1 now has both.
    paid_at(c, profile, datetime(2026, 12, 20, 10, tzinfo=WIB), datetime(2026, 11, 22, 12, tzinfo=WIB))
    rollup_cohorts(now=NOW)
    assert cells() == [(october, 0, 2), (october, 1, 2), (november, 0, 1)]
    # Without PostgreSQL (make run's SQLite) the cohorts are counted in Python: the same cells.
    assert people._cohort_cells_portable("default") == people.cohort_cells(using="default") == cells()


def test_figures_small_cells_and_the_cohort_table():
    stored = {"new_customers": 12, "new_companions": 3, "first_bookings": 6, "signup_to_first_hours": 45}
    DailyPeople.objects.create(day=DAY - timedelta(days=2), active_companions=40, computed_at=NOW, **stored)
    DailyPeople.objects.create(
        day=DAY - timedelta(days=9),
        new_customers=2,
        new_companions=7,
        first_bookings=1,
        signup_to_first_hours=5,
        computed_at=NOW,
    )
    for cohort, after, customers in ((date(2026, 9, 1), 0, 20), (date(2026, 9, 1), 1, 4), (date(2026, 9, 1), 2, 10)):
        CohortRetention.objects.create(cohort=cohort, months_after=after, customers=customers, computed_at=NOW)
    CohortRetention.objects.create(cohort=date(2026, 11, 1), months_after=0, customers=3, computed_at=NOW)
    period = Period(DAY - timedelta(days=6), DAY)
    figures = people_figures(period=period, today=DAY + timedelta(days=1), now=NOW + timedelta(days=1))
    assert figures["now"]["new_customers"] == {"count": 12, "small": False}
    assert figures["now"]["new_companions"] == {"count": 3, "small": True}
    assert figures["now"]["average_hours"] == 7.5  # 45 hours over 6 first bookings
    assert figures["before"]["new_customers"] == {"count": 2, "small": True}
    assert figures["before"]["average_hours"] is None  # one first booking: too few to average
    assert figures["active"] == {"count": 40, "small": False}
    assert figures["active_day"] == DAY - timedelta(days=2)
    assert figures["chart"]["series"][1]["data"][4] is None  # 3 new companions: left out of the chart
    assert figures["chart"]["series"][0]["data"][4] == 12
    september, november = figures["cohorts"]
    assert september["size"] == 20
    assert [(c["customers"], c["small"], c["share"]) for c in september["cells"][:3]] == [
        (20, False, 100.0),
        (4, True, None),
        (10, False, 50.0),
    ]
    assert september["cells"][3:] == [None] * 9  # December on: not reached yet
    assert november["small"] is True
    with translation.override("en"):
        html = render_to_string("analytics/_people.html", {"people": figures})
    assert 'data-testid="new-companions">&lt; 5<' in html
    assert 'data-testid="new-customers">12<' in html
    assert 'data-testid="signup-hours">7.5<' in html
    assert 'data-testid="active-count">40<' in html
    assert 'data-testid="month-1">&lt; 5<' in html
    assert 'data-testid="month-2">50.0%<' in html
    assert 'data-chart="chart-people-data"' in html
    assert "the city and activity filters do not apply" in html
    header, rows = people_csv(figures, "cohorts")
    assert len(header) == 5
    assert rows[:3] == [["2026-09", 20, 0, 20, 100.0], ["2026-09", 20, 1, "< 5", ""], ["2026-09", 20, 2, 10, 50.0]]
    assert rows[-1] == ["2026-11", "< 5", 0, "< 5", ""]
    header, rows = people_csv(figures, "people")
    assert rows[4] == [DAY - timedelta(days=2), 12, "< 5", 6]
    assert rows[0] == [DAY - timedelta(days=6), 0, 0, 0]


def test_today_is_computed_live_in_a_constant_number_of_queries():
    seed_the_day()
    period = Period(DAY - timedelta(days=29), DAY)
    DailyPeople.objects.create(day=DAY, new_customers=99, active_companions=99, computed_at=NOW)  # stale: not read
    DailyPeople.objects.create(day=DAY - timedelta(days=1), active_companions=6, computed_at=NOW)  # last night's
    with CaptureQueriesContext(connection) as small:
        figures = people_figures(period=period, today=DAY, now=NOW)
    assert figures["now"]["new_customers"]["count"] == 2
    assert figures["now"]["first_bookings"]["count"] == 2
    assert (figures["active"]["count"], figures["active_day"]) == (6, DAY - timedelta(days=1))
    # More of everything: more days stored, more cohorts, more people and companions; the same queries.
    for offset in range(2, 20):
        DailyPeople.objects.create(day=DAY - timedelta(days=offset), new_customers=offset, computed_at=NOW)
    for month in range(1, 11):
        CohortRetention.objects.create(cohort=date(2026, month, 1), months_after=0, customers=9, computed_at=NOW)
    seed_the_day()
    make_companion(min_hours=4)
    with CaptureQueriesContext(connection) as large:
        people_figures(period=period, today=DAY, now=NOW)
    assert len(large.captured_queries) == len(small.captured_queries) == 4
