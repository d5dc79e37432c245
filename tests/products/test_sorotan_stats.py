"""A companion's Sorotan statistics (issue 17): impressions, profile views, requests and bookings during the
promotion so far against the same span just before it, from hand-made bookings and daily figures."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from products.models import DailyStat
from products.stats import Figure, sorotan_stats
from tests.bookings.helpers import NOW, make_companion, new_customer, request
from tests.products.sorotan_helpers import confirmed, promote

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
STARTS = NOW - timedelta(days=3)  # Saturday 21 November 08:00 WIB: 3 days of promotion at NOW


def meeting(days_after: int) -> datetime:
    """A start far enough ahead of every request below, one a day so none overlap."""
    return datetime(2026, 12, 1, 10, 0, tzinfo=WIB) + timedelta(days=days_after)


@pytest.fixture
def ayu():
    return make_companion(name="Ayu", horizon_days=60)


def test_requests_and_bookings_during_against_the_same_span_before(ayu):
    other = make_companion(name="Bima", horizon_days=60)
    purchase = promote(ayu, paid_at=STARTS)
    customer = new_customer()
    # Before the promotion (the 3 days before STARTS): two requests, one of them confirmed then.
    confirmed(
        ayu, customer, start=meeting(0), asked=STARTS - timedelta(days=2), paid=STARTS - timedelta(days=2, minutes=-10)
    )
    request(customer, ayu, start=meeting(1), now=STARTS - timedelta(hours=1))
    # Too early to count: more than 3 days before.
    request(customer, ayu, start=meeting(2), now=STARTS - timedelta(days=3, minutes=1))
    # During: three requests, two confirmed during, and one asked before but paid during.
    confirmed(
        ayu, customer, start=meeting(3), asked=STARTS + timedelta(hours=1), paid=STARTS + timedelta(hours=1, minutes=10)
    )
    confirmed(
        ayu, customer, start=meeting(4), asked=STARTS + timedelta(days=1), paid=STARTS + timedelta(days=1, minutes=10)
    )
    request(customer, ayu, start=meeting(5), now=NOW - timedelta(minutes=1))
    confirmed(ayu, customer, start=meeting(6), asked=STARTS - timedelta(minutes=20), paid=STARTS + timedelta(minutes=5))
    # Another companion's, and one after NOW: not counted.
    request(customer, other, start=meeting(7), now=STARTS + timedelta(hours=1))
    request(customer, ayu, start=meeting(8), now=NOW + timedelta(minutes=1))
    stats = sorotan_stats(purchase, now=NOW)
    assert stats.requests == Figure(during=3, before=3)
    assert stats.bookings == Figure(during=3, before=1)
    assert (stats.starts_at, stats.until) == (STARTS, NOW)


def test_impressions_and_views_by_whole_days_against_as_many_days_before(ayu):
    purchase = promote(ayu, paid_at=STARTS)  # 21 November WIB; NOW is 24 November: 4 days
    first = STARTS.astimezone(WIB).date()
    figures = {-5: (1000, 100), -4: (7, 1), -1: (10, 2), 0: (50, 5), 2: (60, 6), 3: (70, 7), 4: (999, 99)}
    DailyStat.objects.bulk_create(
        DailyStat(profile=ayu, day=first + timedelta(days=offset), impressions=shown, profile_views=views)
        for offset, (shown, views) in figures.items()
    )
    DailyStat.objects.create(profile=make_companion(name="Bima"), day=first, impressions=500, profile_views=50)
    stats = sorotan_stats(purchase, now=NOW)
    assert (stats.first_day, stats.days) == (first, 4)
    assert stats.impressions == Figure(during=50 + 60 + 70, before=7 + 10)
    assert stats.profile_views == Figure(during=5 + 6 + 7, before=1 + 2)
    assert stats.impressions.change == 180 - 17


def test_an_ended_promotion_compares_its_whole_period(ayu):
    purchase = promote(ayu, paid_at=NOW - timedelta(days=10), days=7)
    customer = new_customer()
    request(customer, ayu, start=meeting(0), now=NOW - timedelta(days=4))  # during the 7 days
    request(customer, ayu, start=meeting(1), now=NOW - timedelta(days=2))  # after the end
    stats = sorotan_stats(purchase, now=NOW)
    assert stats.until == purchase.ends_at and stats.days == 8  # 14 to 21 November, both touched
    assert stats.requests == Figure(during=1, before=0)


def test_a_promotion_not_begun_counts_nothing(ayu):
    promote(ayu, paid_at=NOW - timedelta(days=1))
    later = promote(ayu, paid_at=NOW)  # starts where the first ends
    assert later.starts_at > NOW
    request(new_customer(), ayu, start=meeting(0), now=NOW - timedelta(hours=1))
    stats = sorotan_stats(later, now=NOW)
    assert stats.requests == stats.bookings == stats.impressions == Figure(0, 0)


def test_the_table_shows_the_figures(ayu):
    purchase = promote(ayu, paid_at=STARTS)
    DailyStat.objects.create(profile=ayu, day=STARTS.astimezone(WIB).date(), impressions=1234, profile_views=56)
    with translation.override("en"):
        html = render_to_string("products/_sorotan_stats.html", {"stats": sorotan_stats(purchase, now=NOW)})
    assert "During the promotion so far (4 days)" in html
    row = html.split('data-figure="impressions"', 1)[1].split("</tr>", 1)[0]
    assert "<td" in row and ">1234<" in row and "Search impressions" in row and ">+1234<" in row
    views = html.split('data-figure="profile_views"', 1)[1].split("</tr>", 1)[0]
    assert ">56<" in views
