"""Shared pieces of the safety-at-meetings tests: a confirmed booking starting at a chosen moment (requested,
accepted and paid a day before it), on a fixed or the real clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking
from companions.models import Activity
from safety.contacts import contact_save
from tests.bookings.helpers import make_companion, new_customer

WIB = ZoneInfo("Asia/Jakarta")
PLACE = "Kopi Tuku, Grand Indonesia"


def half_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0 if moment.minute < 30 else 30, second=0, microsecond=0)


def confirmed_booking(start: datetime | None = None, *, hours: int = 2, profile=None, customer=None, place=PLACE):
    """Confirmed (paid), starting at `start` (default: began 30 minutes ago on the real clock)."""
    start = start or half_hour(timezone.now()) - timedelta(minutes=30)
    opens = (start - timedelta(hours=2)).astimezone(WIB)  # working hours around the start (past midnight too)
    hours_around = ((opens.weekday(), opens.hour * 60 + opens.minute, 8 * 60),)
    profile = profile or make_companion(ranges=hours_around, min_notice_minutes=60)
    customer = customer or new_customer()
    asked = start - timedelta(days=1)
    booking = booking_services.booking_request(
        customer=customer,
        profile=profile,
        start=start,
        hours=hours,
        activity=Activity.objects.get(slug="hangout"),
        meeting_place=place,
        now=asked,
    )
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=asked)
    booking_services.booking_mark_paid(booking_id=booking.pk, now=asked)
    return Booking.objects.select_related("customer", "companion__user", "companion__city").get(pk=booking.pk)


def with_contact(user, name: str = "Rina", phone: str = "+6281298765432"):
    return contact_save(user=user, name=name, phone=phone)
