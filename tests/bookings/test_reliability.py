"""Companions' reliability over the last 90 days (bookings/reliability.py), recomputed daily and shown on
the profile: a decline is an answer, an unanswered request is not; instant, withdrawn and open requests do
not count; rates need three cases; the job run twice changes nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings import reliability
from bookings import services as booking_services
from companions.models import CompanionProfile
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def figures_of(profile) -> dict:
    return reliability.figures(NOW + timedelta(days=10))[profile.pk]


def completed(profile, customer, start):
    booking = request(customer, profile, start=start)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    booking = booking_services.booking_mark_paid(booking_id=booking.pk, now=NOW + HOUR + MINUTE)
    booking_services.bookings_sweep(now=booking.complete_after)
    return booking


def test_a_decline_is_an_answer_and_an_unanswered_request_is_not():
    profile = make_companion()
    customers = [new_customer() for _ in range(4)]
    starts = [START + timedelta(days=day) for day in range(4)]
    accepted = request(customers[0], profile, start=starts[0])
    booking_services.booking_accept(booking_id=accepted.pk, actor=profile.user, now=NOW + HOUR)
    declined = request(customers[1], profile, start=starts[1])
    booking_services.booking_decline(booking_id=declined.pk, actor=profile.user, reason="Tidak bisa", now=NOW + HOUR)
    request(customers[2], profile, start=starts[2])  # never answered: declined by the sweep at its deadline
    withdrawn = request(customers[3], profile, start=starts[3])
    booking_services.booking_withdraw(booking_id=withdrawn.pk, actor=customers[3], now=NOW + HOUR)
    booking_services.bookings_sweep(now=NOW + timedelta(days=1))
    # 3 needed an answer (the withdrawn one did not); 2 were answered in time.
    assert figures_of(profile)["response_rate"] == 67


def test_rates_need_three_cases_and_repeat_customers_count_once_each():
    profile = make_companion()
    regular, once = new_customer(), new_customer()
    completed(profile, regular, START)
    completed(profile, regular, START + timedelta(days=2))
    completed(profile, once, START + timedelta(days=4))
    found = figures_of(profile)
    assert found["completed_recently"] == 3
    assert found["response_rate"] == 100
    assert found["repeat_share"] is None  # two customers: too few to say
    assert found["cancelled_recently"] == 0


def test_the_daily_job_stores_the_figures_once_and_the_profile_shows_them(client, settings, monkeypatch):
    from django.utils import timezone

    profile = make_companion()
    for day in range(3):
        completed(profile, new_customer(), START + timedelta(days=2 * day))
    monkeypatch.setattr(timezone, "now", lambda: NOW + timedelta(days=10))
    assert reliability.recompute() >= 1
    assert reliability.recompute() == 0  # the second run changes nothing
    stored = CompanionProfile.objects.get(pk=profile.pk)
    assert (stored.response_rate, stored.completed_recently, stored.repeat_share) == (100, 3, 0)
    html = client.get(reverse("companions:profile", args=[profile.slug])).content.decode()
    assert "data-reliability" in html and "100%" in html and "3 pemesanan selesai dalam 90 hari" in html
