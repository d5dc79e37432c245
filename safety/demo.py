"""Demo safety data for `make run` (composed by web's seed_demo).

Reports about people (safety/reports.py): Rina (pelanggan) has reported Hendra from his profile, so the
admin's "Reports about people" and safety queue have one open report to decide (warn, suspend, ban, dismiss).
Idempotent: a second run finds the report and adds nothing.

Safety at meetings (`seed_meeting`): Rina (pelanggan) has a confirmed booking happening now (or as soon as a
demo companion is free) and a trusted contact, so the check-in code, sharing, SOS and the welfare check can be
clicked."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from safety import reports
from safety.models import PersonReport

REPORTER_EMAIL = "pelanggan@kompanion.test"
REPORTED_EMAIL = "hendra@kompanion.test"


def seed_reports() -> int:
    """Returns how many reports it made (0 on a second run, or without the demo accounts)."""
    reporter = User.objects.filter(email=REPORTER_EMAIL).first()
    person = User.objects.filter(email=REPORTED_EMAIL).first()
    if reporter is None or person is None or PersonReport.objects.filter(reporter=reporter, reported=person).exists():
        return 0
    reports.report_send(
        reporter=reporter,
        reported=person,
        category="harassment",
        description=(
            "Demo: setelah saya bertanya soal jadwal, dia terus mengirim pesan yang membuat saya tidak nyaman "
            "dan meminta nomor WhatsApp saya."
        ),
    )
    return 1


# --- Safety at meetings (safety/meeting.py, contacts.py, welfare.py) ------------------------------------------

MEETING_CUSTOMER_EMAIL = "pelanggan@kompanion.test"
MEETING_COMPANIONS = ("ayu", "bima", "citra", "dimas", "eka", "fajar")
MEETING_PLACE = "Demo keamanan: Kopi Tuku, Grand Indonesia, lantai 3"
DEMO_CONTACT = ("Dewi (kakak Rina)", "+6281311112222")


def _meeting_start(profile, now):
    """A free start for the companion around now (from 90 minutes ago to 30 minutes ahead), as seen by a
    request made a day ago; otherwise their next free start within a day (the demo clock then shows the rest)."""
    from companions.selectors import free_start_times

    asked = now - timedelta(days=1)
    hours = profile.min_hours
    around = free_start_times(
        profile, start=now - timedelta(minutes=90), end=now + timedelta(minutes=30), hours=hours, now=asked
    )
    if around:
        return around[0], asked
    later = free_start_times(profile, start=now, end=now + timedelta(days=1), hours=hours, now=now)
    return (later[0], now) if later else (None, None)


def seed_meeting(*, pay) -> int:
    """A confirmed booking of Rina's (the printed customer) happening now, or as soon as a demo companion is
    free, so the check-in code, SOS and the welfare check (`manage.py welfare_check_now --at ...`) can be
    clicked; and Rina's trusted contact. Idempotent: while such a booking is still within its meeting window
    plus the welfare check's reach, nothing new is made. Returns how many bookings it made."""
    from bookings import services as booking_services
    from bookings.models import Booking, BookingStatus
    from companions.models import CompanionProfile
    from safety.contacts import contact_of, contact_save
    from safety.meeting import meeting_for
    from safety.welfare import LOOKBACK

    customer = User.objects.filter(email=MEETING_CUSTOMER_EMAIL).first()
    if customer is None:
        return 0
    if contact_of(customer) is None:
        contact_save(user=customer, name=DEMO_CONTACT[0], phone=DEMO_CONTACT[1])
    now = timezone.now()
    if Booking.objects.filter(
        customer=customer, meeting_place=MEETING_PLACE, status=BookingStatus.CONFIRMED, end__gte=now - LOOKBACK
    ).exists():
        return 0
    for name in MEETING_COMPANIONS:
        profile = CompanionProfile.objects.filter(slug__startswith=name, is_listed=True).first()
        if profile is None:
            continue
        start, asked = _meeting_start(profile, now)
        if start is None:
            continue
        booking = booking_services.booking_request(
            customer=customer,
            profile=profile,
            start=start,
            hours=profile.min_hours,
            activity=profile.activities.first(),
            meeting_place=MEETING_PLACE,
            note="Demo: pertemuan untuk mencoba kode check-in, SOS dan cek keadaan.",
            now=asked,
        )
        booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=asked)
        pay(booking, now=asked)
        booking.refresh_from_db()
        meeting_for(booking)
        return 1
    return 0
