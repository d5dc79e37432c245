"""Refunds of our part and paid products in the rollups, and today computed live: hand-computed figures, a
refund made days later counted on its own day, and the live day equal to what the nightly job then stores
(never counted twice), with a query count that does not grow with the range."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.models import DailyProductSales, DailyRollup
from analytics.rollups import rollup_day
from analytics.selectors import Period, dashboard_figures
from bookings import services as booking_services
from payments import services as payment_services
from payments.demo import demo_pay
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.payments.helpers import PAID_AT
from tests.products.plus_helpers import plus_member, plus_package
from tests.products.test_purchases import buy

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
DAY = NOW.astimezone(WIB).date()


def paid_booking(profile=None):
    profile = profile or make_companion()
    booking = request(new_customer(), profile, START)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking.refresh_from_db()
    demo_pay(booking, now=PAID_AT)
    booking.refresh_from_db()
    return booking


def test_a_companion_cancellation_gives_back_our_whole_part_on_the_day_it_happens():
    booking = paid_booking()
    rollup_day(DAY)
    [row] = DailyRollup.objects.filter(day=DAY)
    assert row.refunds == 0
    ours = booking.service_fee + booking.commission - booking.discount
    assert ours > 0
    # Two days later the companion cancels: the customer gets everything back.
    later = NOW + timedelta(days=1, hours=2)
    booking_services.booking_cancel(booking_id=booking.pk, actor=booking.companion.user, reason="Sakit", now=later)
    booking.refresh_from_db()
    assert booking.refund_amount == booking.total
    refund_day = later.astimezone(WIB).date()
    rollup_day(DAY)
    rollup_day(refund_day)
    assert DailyRollup.objects.get(day=DAY).refunds == 0  # the money stays on the day it was paid
    [late] = DailyRollup.objects.filter(day=refund_day)
    assert (late.refunds, late.gmv, late.requests) == (ours, 0, 0)
    figures = dashboard_figures(period=Period(DAY, refund_day))
    assert figures["now"]["refunds"] == ours
    assert figures["now"]["net"] == booking.service_fee + booking.commission - booking.discount - ours == 0


def test_paid_products_per_day_and_kind():
    member = plus_member(new_customer(), at=NOW)
    assert rollup_day(DAY) == 0  # no bookings that day
    [row] = DailyProductSales.objects.filter(day=DAY)
    assert (row.kind, row.purchases, row.sales, row.refunds) == ("plus", 1, member.price, 0)
    figures = dashboard_figures(period=Period(DAY, DAY))
    [plus] = figures["products"]["kinds"]
    assert (plus["purchases"], plus["sales"], plus["small"]) == (1, member.price, True)
    assert figures["net_with_products"] == member.price


def test_a_product_refund_counts_on_its_day(staff):
    member = buy(plus_package(), new_customer())  # through the simulator: a real payment to refund
    later = NOW + timedelta(days=3)
    payment_services.purchases_recognise(now=later)
    unused = payment_services.purchase_refund_unused(purchase_id=member.pk, actor=staff, now=later)
    rollup_day(later.astimezone(WIB).date())
    [row] = DailyProductSales.objects.filter(day=later.astimezone(WIB).date())
    assert (row.purchases, row.sales, row.refunds) == (0, 0, unused)


def test_today_is_computed_live_and_equals_what_the_night_stores():
    booking = paid_booking()
    request(new_customer(), booking.companion, START + timedelta(days=1))  # a second request, unanswered
    period = Period(DAY - timedelta(days=6), DAY)
    live = dashboard_figures(period=period, today=DAY)
    assert DailyRollup.objects.count() == 0
    assert (live["now"]["requests"], live["now"]["paid"], live["now"]["gmv"]) == (2, 1, booking.total)
    assert live["daily"][-1]["gmv"] == booking.total
    rollup_day(DAY)
    # Stored now too: the live figures are still counted once.
    again = dashboard_figures(period=period, today=DAY)
    assert again["now"] == live["now"]
    stored = dashboard_figures(period=period, today=DAY + timedelta(days=1))  # the day read from the rollup
    assert stored["now"] == live["now"]


def test_a_range_with_today_reads_a_constant_number_of_queries():
    paid_booking()

    def count(days):
        with CaptureQueriesContext(connection) as queries:
            dashboard_figures(period=Period(DAY - timedelta(days=days), DAY), today=DAY)
        return len(queries), queries

    short, _ = count(0)
    long, queries = count(700)
    assert short == long
    # Today's bookings are read through their day's range, never the whole table.
    booking_reads = [q["sql"] for q in queries if '"bookings_booking"' in q["sql"]]
    assert booking_reads and all("created_at" in sql or "paid_at" in sql or "closed_at" in sql for sql in booking_reads)
