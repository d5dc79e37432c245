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


def _start_around(profile, now):
    """A free start for the companion around now (from 90 minutes ago to 30 minutes ahead), as seen by a
    request made a day ago: (start, asked) or None."""
    from companions.selectors import free_start_times

    asked = now - timedelta(days=1)
    around = free_start_times(
        profile, start=now - timedelta(minutes=90), end=now + timedelta(minutes=30), hours=profile.min_hours, now=asked
    )
    return (around[0], asked) if around else None


def _next_start(profile, now):
    """The companion's next free start within a day (the demo clock then shows the rest), or None."""
    from companions.selectors import free_start_times

    later = free_start_times(profile, start=now, end=now + timedelta(days=1), hours=profile.min_hours, now=now)
    return (later[0], now) if later else None


def _open_hours_around(profile, now) -> None:
    """Adds to the companion's week a range from two hours before now, long enough for a booking that
    started up to 90 minutes ago (in the companion's zone; a range may run past midnight)."""
    from zoneinfo import ZoneInfo

    from companions.services import weekly_hours_replace

    opens = (now.astimezone(ZoneInfo(profile.time_zone)) - timedelta(hours=2)).replace(
        minute=0, second=0, microsecond=0
    )
    week = 7 * 48  # half hours in a week
    open_slots = [False] * week
    spans = [(hours.weekday, hours.start_minute, hours.length_minutes) for hours in profile.weekly_hours.all()]
    spans.append((opens.weekday(), opens.hour * 60, (profile.min_hours + 4) * 60))
    for weekday, start_minute, length in spans:  # the union: the service refuses overlapping ranges
        first = weekday * 48 + start_minute // 30
        for slot in range(first, first + length // 30):
            open_slots[slot % week] = True
    ranges, slot = [], 0
    while slot < week:
        if not open_slots[slot]:
            slot += 1
            continue
        run = slot
        while run < week and open_slots[run] and run - slot < 48:
            run += 1
        ranges.append((slot // 48, (slot % 48) * 30, (run - slot) * 30))
        slot = run
    weekly_hours_replace(profile=profile, ranges=ranges)


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
    profiles = [
        profile
        for name in MEETING_COMPANIONS
        if (profile := CompanionProfile.objects.filter(slug__startswith=name, is_listed=True).first()) is not None
    ]
    chosen = next(((profile, found) for profile in profiles if (found := _start_around(profile, now))), None)
    for profile in profiles if chosen is None else ():
        # Nobody works at this hour: a demo companion's week gains a few hours around now (demo data only), so
        # the check-in code and SOS can be tried at once, whatever the time of day.
        _open_hours_around(profile, now)
        if found := _start_around(profile, now):
            chosen = (profile, found)
            break
    if chosen is None:
        chosen = next(((profile, found) for profile in profiles if (found := _next_start(profile, now))), None)
    if chosen is not None:
        profile, (start, asked) = chosen
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
