"""After commit, a booking refreshes the companion's cached pages. A cache outage then must never turn
the committed booking into an error page: it is logged, and the booking stands."""

import logging

import pytest

from bookings import services
from bookings.models import Booking, BookingStatus
from companions import page_cache
from tests.bookings.helpers import HOUR, NOW, make_companion, new_customer, request


class CacheDown(Exception):
    pass


@pytest.mark.django_db(transaction=True)  # real commits, so the after-commit callbacks really run
def test_a_cache_outage_after_commit_is_logged_and_the_booking_stands(reference_data, settings, monkeypatch, caplog):
    settings.COMPANION_PAGE_CACHE_SECONDS = 60
    bumps = []

    def broken_bump(key):
        bumps.append(key)
        raise CacheDown("redis is down")

    monkeypatch.setattr(page_cache, "_bump", broken_bump)
    profile = make_companion()
    with caplog.at_level(logging.ERROR):
        booking = request(new_customer(), profile)  # commits (a durable transaction)
        services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.AWAITING_PAYMENT
    assert len(bumps) == 2  # one per committed change, each failing
    assert sum("on_commit" in record.getMessage() for record in caplog.records) == 2
