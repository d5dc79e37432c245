"""A completed booking to review, on the booking tests' fixed clock."""

from datetime import timedelta

from bookings import services as booking_services
from tests.bookings.helpers import NOW, make_companion, new_customer, request

HOUR = timedelta(hours=1)
STARS = {"overall": 5, "punctuality": 4, "communication": 5, "as_described": 4, "respected_boundaries": 5}


def completed_booking(profile=None, customer=None):
    """Requested at NOW, accepted and paid an hour later, completed by the sweep at `complete_after`."""
    profile = profile or make_companion()
    customer = customer or new_customer()
    booking = request(customer, profile)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    booking = booking_services.booking_mark_paid(booking_id=booking.pk, now=NOW + HOUR + timedelta(minutes=1))
    booking_services.bookings_sweep(now=booking.complete_after)
    booking.refresh_from_db()
    return booking


def form_data(**overrides) -> dict:
    return {**STARS, "text": "Tepat waktu dan ramah, ngobrolnya seru.", **overrides}
