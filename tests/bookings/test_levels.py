"""The level job's bookings half (bookings/levels.py) from real bookings, and the commission: frozen into
each booking when it is created, so a level change never touches a booking already made."""

from datetime import timedelta

import pytest

from bookings import levels, reliability
from bookings import services as booking_services
from bookings.pricing import compute_price
from bookings.tasks import recompute_standing_task
from companions import levels as companion_levels
from companions.models import CompanionProfile, Level, LevelChange
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
LATER = NOW + timedelta(days=10)


def accepted_and_paid(profile, customer, start):
    booking = request(customer, profile, start=start)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    return booking_services.booking_mark_paid(booking_id=booking.pk, now=NOW + HOUR + MINUTE)


def completed(profile, customer, start):
    booking = accepted_and_paid(profile, customer, start)
    booking_services.bookings_sweep(now=booking.complete_after)
    return booking


def test_figures_count_completed_bookings_different_customers_and_the_companions_cancellations():
    profile = make_companion()
    regular, other = new_customer(), new_customer()
    for day, customer in enumerate((regular, regular, other)):
        completed(profile, customer, START + timedelta(days=2 * day))
    cancelled = accepted_and_paid(profile, new_customer(), START + timedelta(days=8))
    booking_services.booking_cancel(
        booking_id=cancelled.pk, actor=profile.user, reason="Sakit, mohon maaf sekali", now=NOW + 2 * HOUR
    )
    by_customer = accepted_and_paid(profile, other, START + timedelta(days=10))
    booking_services.booking_cancel(booking_id=by_customer.pk, actor=other, reason="Ada acara", now=NOW + 2 * HOUR)
    found = levels.figures(LATER)[profile.pk]
    assert found["completed"] == 3 and found["customers"] == 2
    # 1 cancelled by the companion of 4 that ended either way; the customer's own cancellation never counts.
    assert found["cancellation_rate"] == 25
    assert found["recent_subtotal"] == 3 * 2 * 150_000


def test_only_the_last_365_days_count_and_recent_volume_only_the_last_90():
    profile = make_companion()
    for day in range(3):
        completed(profile, new_customer(), START + timedelta(days=2 * day))
    assert levels.figures(NOW + timedelta(days=100))[profile.pk]["recent_subtotal"] == 0
    assert levels.figures(NOW + timedelta(days=100))[profile.pk]["completed"] == 3
    assert profile.pk not in levels.figures(NOW + timedelta(days=375))  # all closed by 1 December 2026


def test_a_booking_keeps_the_commission_of_the_day_it_was_created_whatever_the_level_does_later():
    profile = make_companion()
    before = request(new_customer(), profile, start=START)
    assert before.commission_basis_points == 2000
    companion_levels.level_override(profile_id=profile.pk, level=Level.GOLD, reason="Event partner", by=StaffFactory())
    after = request(new_customer(), profile, start=START + timedelta(days=1))
    assert after.commission_basis_points == 1500
    before.refresh_from_db()
    assert before.commission_basis_points == 2000
    for booking in (before, after):  # each snapshot is its own price, computed by the one pure function
        price = compute_price(
            hourly_rate=booking.hourly_rate,
            hours=booking.hours,
            commission_basis_points=booking.commission_basis_points,
        )
        assert (booking.commission, booking.companion_earnings) == (price.commission, price.companion_earnings)
    assert before.commission == 60_000 and after.commission == 45_000


def test_the_daily_task_promotes_from_real_bookings_and_a_second_run_changes_nothing(monkeypatch):
    from django.utils import timezone

    profile = make_companion()
    customers = [new_customer() for _ in range(5)]
    for index in range(10):
        completed(profile, customers[index % 5], START + timedelta(days=index, hours=index % 3))
    from companions import services as companion_services

    companion_services.profile_rating_change(profile_id=profile.pk, count=5, stars=25)
    monkeypatch.setattr(timezone, "now", lambda: LATER)
    first = recompute_standing_task()
    assert first["promotion"] == 1 and first["reliability_changed"] >= 1
    assert CompanionProfile.objects.get(pk=profile.pk).level == Level.SILVER
    change = LevelChange.objects.get(profile=profile)
    assert change.figures["completed"] == 10 and change.figures["customers"] == 5
    second = recompute_standing_task()
    assert not any(second.values()), second
    assert reliability.recompute() == 0
