"""The nightly rollups against hand-computed figures for a small seeded day: every funnel step and money
figure, the same rows on a second run, a late event counted when the day is computed again, and the command's
bad input (reversed or huge ranges, bad dates) as a clear message."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from analytics.models import DailyRollup
from analytics.rollups import rollup_day
from bookings import services as booking_services
from payments.demo import demo_pay
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.payments.helpers import PAID_AT

pytestmark = pytest.mark.django_db

DAY = NOW.astimezone(ZoneInfo("Asia/Jakarta")).date()  # Tuesday 24 November 2026


def rows():
    return list(DailyRollup.objects.order_by("city_id", "activity_id").values())


def seed_the_day():
    profile = make_companion()
    made = {}
    # Paid, then completed.
    made["paid"] = request(new_customer(), profile, START)
    booking_services.booking_accept(booking_id=made["paid"].pk, actor=profile.user, now=NOW)
    made["paid"].refresh_from_db()
    demo_pay(made["paid"], now=PAID_AT)
    # Declined by the companion; never answered; accepted and never paid; withdrawn.
    made["declined"] = request(new_customer(), profile, START + timedelta(days=1))
    booking_services.booking_decline(booking_id=made["declined"].pk, actor=profile.user, now=NOW)
    made["unanswered"] = request(new_customer(), profile, START + timedelta(days=2))
    made["unpaid"] = request(new_customer(), profile, START + timedelta(days=3))
    booking_services.booking_accept(booking_id=made["unpaid"].pk, actor=profile.user, now=NOW)
    made["withdrawn"] = request(new_customer(), profile, START + timedelta(days=4))
    booking_services.booking_withdraw(booking_id=made["withdrawn"].pk, actor=made["withdrawn"].customer, now=NOW)
    booking_services.bookings_sweep(now=NOW + timedelta(hours=13))  # past the answer and payment deadlines
    for booking in made.values():
        booking.refresh_from_db()
    return profile, made


def test_a_day_against_hand_computed_figures_twice_the_same():
    profile, made = seed_the_day()
    assert rollup_day(DAY) == 1  # one city × activity cell (Jakarta, hangout)
    [row] = rows()
    paid = made["paid"]
    assert (row["city_id"], row["activity_id"]) == (profile.city_id, paid.activity_id)
    assert {key: row[key] for key in ("requests", "accepted", "paid", "completed")} == {
        "requests": 5,
        "accepted": 2,  # the paid one and the unpaid one
        "paid": 1,
        "completed": 0,  # completes only 24 hours after it ends
    }
    assert (row["declined"], row["unanswered"], row["unpaid"], row["withdrawn"]) == (1, 1, 1, 1)
    assert (row["gmv"], row["service_fees"], row["commission"], row["discounts"]) == (
        paid.total,
        paid.service_fee,
        paid.commission,
        paid.discount,
    )
    first = rows()
    assert rollup_day(DAY) == 1
    assert [dict(r, id=None, computed_at=None) for r in rows()] == [dict(r, id=None, computed_at=None) for r in first]


def test_a_late_event_counts_once_the_day_is_computed_again():
    profile, made = seed_the_day()
    rollup_day(DAY)
    booking_services.bookings_sweep(now=made["paid"].complete_after + timedelta(minutes=1))  # completes days later
    assert rows()[0]["completed"] == 0  # the stored day is as computed
    rollup_day(DAY)
    assert rows()[0]["completed"] == 1
    assert DailyRollup.objects.count() == 1


def test_the_command_recomputes_a_range_and_refuses_bad_input(capsys):
    seed_the_day()
    call_command("analytics_rollup", "--from", DAY.isoformat(), "--to", (DAY + timedelta(days=2)).isoformat())
    assert "3 days" in capsys.readouterr().out
    assert DailyRollup.objects.filter(day=DAY).count() == 1
    for args in (
        ("--from", "2026-13-01"),
        ("--from", DAY.isoformat(), "--to", (DAY - timedelta(days=1)).isoformat()),
        ("--from", "2020-01-01", "--to", "2026-01-01"),
    ):
        with pytest.raises(CommandError):
            call_command("analytics_rollup", *args)
