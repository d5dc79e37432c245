"""The booking facts companions' pages read (companions/booking_facts.py), provided from here."""

from datetime import datetime

from django.db.models import QuerySet

from bookings.models import Booking, BookingStatus
from bookings.policy import CancelledBy
from companions.booking_facts import Reliability


def held_spans(now: datetime) -> QuerySet:
    """Bookings holding time at `now` (Booking.objects.holding), with companion_id, start, end, hold_until."""
    return Booking.objects.holding(now)


def reliability(profile_id: int) -> Reliability:
    """Cancellations by the companion count against them (shown to customers and admins)."""
    paid = Booking.objects.filter(companion_id=profile_id, paid_at__isnull=False)
    cancelled = paid.filter(
        status=BookingStatus.CANCELLED, cancelled_by=CancelledBy.COMPANION, cancelled_for_safety=False
    )
    return Reliability(paid_bookings=paid.count(), companion_cancellations=cancelled.count())
