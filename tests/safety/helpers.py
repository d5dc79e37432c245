"""Shared pieces of the report and moderation tests (safety/reports.py, safety/moderation.py)."""

from datetime import timedelta

from django.utils import timezone

from bookings import services as booking_services
from companions import selectors
from payments.demo import demo_pay
from tests.bookings.helpers import make_companion, new_customer


def booking_on_the_real_clock(profile=None, customer=None, *, days_ahead: int = 2, pay: bool = True, hours=2):
    """For pages, which read the real time: requested now, starting days ahead; accepted and paid (the
    simulator's signed notification, so escrow holds the money) unless told otherwise."""
    profile = profile or make_companion()
    customer = customer or new_customer()
    now = timezone.now()
    start = selectors.free_start_times(
        profile, start=now + timedelta(days=days_ahead), end=now + timedelta(days=days_ahead + 7), hours=hours
    )[0]
    booking = booking_services.booking_request(
        customer=customer,
        profile=profile,
        start=start,
        hours=hours,
        activity=profile.activities.first(),
        meeting_place="Kopi Tuku, Grand Indonesia",
    )
    if pay:
        booking_services.booking_accept(booking_id=booking.pk, actor=profile.user)
        demo_pay(booking)
    booking.refresh_from_db()
    return booking
