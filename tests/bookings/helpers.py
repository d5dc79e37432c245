"""Shared pieces for the booking tests: a fixed clock, a companion who works every day, and a way to
say "nothing changed" precisely.

The clock: NOW is Tuesday 24 November 2026, 08:00 WIB (01:00 UTC). The services take `now=`, so no
test sleeps or depends on the real time (except the profile-page test, which reads the real clock)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bookings import services
from bookings.models import Booking, BookingEvent
from companions.models import Activity
from notifications.models import Notification
from tests.companions.helpers import listed_companion
from tests.factories import CustomerFactory

UTC = ZoneInfo("UTC")
WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 08:00 WIB
# Thursday 26 November, 10:00 WIB: far enough ahead that the 12-hour windows apply.
START = datetime(2026, 11, 26, 10, 0, tzinfo=WIB)
MEETING_PLACE = "Kopi Kenangan, Grand Indonesia lantai 3"
EVERY_DAY_8_TO_22 = tuple((weekday, 8 * 60, 14 * 60) for weekday in range(7))


def booking_form(start, hours=2, **overrides) -> dict:
    """What the booking page posts for a valid request (override any field)."""
    return {
        "start": start.isoformat(),
        "hours": hours,
        "activity": "hangout",
        "meeting_place": MEETING_PLACE,
        "note": "Ngopi santai lalu jalan sore.",
        "safety": "on",
        **overrides,
    }


def make_companion(**fields):
    """Listed, in Jakarta (WIB), 08.00-22.00 every day, Rp 150.000/h, 1-6 h, 3 h notice, 30 min buffer."""
    defaults = {
        "ranges": EVERY_DAY_8_TO_22,
        "rate": 150_000,
        "min_hours": 1,
        "max_hours": 6,
        "min_notice_minutes": 180,
        "horizon_days": 60,
        "buffer_minutes": 30,
        "activities": ("hangout", "culinary"),
    }
    return listed_companion(**{**defaults, **fields})


def request(customer, profile, start=START, hours=2, *, now=NOW, activity=None, **extra) -> Booking:
    return services.booking_request(
        customer=customer,
        profile=profile,
        start=start,
        hours=hours,
        activity=activity or Activity.objects.get(slug="hangout"),
        meeting_place=extra.pop("meeting_place", MEETING_PLACE),
        now=now,
        **extra,
    )


def new_customer():
    return CustomerFactory()


def world() -> dict:
    """Everything a failed action must leave untouched: every booking row, every event, every notification."""
    return {
        "bookings": list(Booking.objects.order_by("pk").values()),
        "events": list(BookingEvent.objects.order_by("pk").values()),
        "notifications": list(Notification.objects.order_by("pk").values("pk", "recipient_id", "event", "context")),
    }


def events_of(booking) -> list[tuple]:
    return list(
        BookingEvent.objects.filter(booking=booking)
        .order_by("pk")
        .values_list("actor_id", "from_status", "to_status", "reason")
    )


def notifications_after(mark: int) -> list[tuple[str, int]]:
    """(event, recipient id) of the notifications recorded after the row id `mark`, sorted."""
    return sorted(Notification.objects.filter(pk__gt=mark).values_list("event", "recipient_id"))


def last_notification_id() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
