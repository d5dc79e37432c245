"""A time that was never free says why; "just taken" is kept for a lost race (issue 11, failure 6).

The reasons come from the availability engine itself (`companions.availability.why_not_free`), the
same code that lists free start times, so the two cannot disagree: a random comparison below holds
them to it. The service tests use the fixed clock of helpers.py (NOW is Tuesday 24 Nov 2026, 08.00 WIB;
Ayu works 08.00-22.00 WIB every day, 1-6 hours, 3 hours' notice, 60 days ahead); the page tests read
the real clock like the views do."""

import random
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from bookings.errors import BookingError, SlotTaken, TimeNotBookable
from bookings.models import Booking
from companions import selectors as companion_selectors
from companions.availability import Reason, Schedule, free_start_times, why_not_free
from companions.models import CompanionProfile, TimeOff
from core.formatting import format_date
from tests.bookings.helpers import (
    HOUR,
    MINUTE,
    NOW,
    START,
    WIB,
    booking_form,
    make_companion,
    new_customer,
    request,
    world,
)
from tests.bookings.test_pages import new_url
from tests.factories import CustomerFactory

THURSDAY = date(2026, 11, 26)
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")


def refused(profile, *, customer=None, **arguments) -> BookingError:
    """Requests in English, asserts that nothing was written, and returns the error."""
    before = world()
    with translation.override("en"), pytest.raises(BookingError) as error:
        request(customer or new_customer(), profile, **arguments)
    assert world() == before
    return error.value


def local(day: date, hour: int, minute: int = 0, zone=WIB) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


# --- Each reason, with its exact message and field -------------------------------------------------------


def test_outside_the_hours_names_the_companion_and_that_days_hours(profile):
    error = refused(profile, start=local(THURSDAY, 3))
    assert isinstance(error, TimeNotBookable) and not isinstance(error, SlotTaken)
    assert (error.reason, error.field) == (Reason.OUTSIDE_HOURS, "start")
    assert error.message == (
        "3:00 AM WIB is outside Ayu's hours. On Thu, 26 Nov 2026, Ayu is available 8:00 AM–10:00 PM WIB."
    )


def test_outside_the_hours_shows_the_viewers_zone_beside_the_companions(profile):
    error = refused(profile, customer=CustomerFactory(time_zone="Asia/Makassar"), start=local(THURSDAY, 3))
    assert error.message == (
        "3:00 AM WIB (4:00 AM WITA) is outside Ayu's hours. "
        "On Thu, 26 Nov 2026, Ayu is available 8:00 AM–10:00 PM WIB (9:00 AM–11:00 PM WITA)."
    )


def test_a_day_without_hours_says_so(db):
    profile = make_companion(ranges=((5, 10 * 60, 4 * 60),))  # Saturdays 10.00-14.00 only
    error = refused(profile, start=START)
    assert (error.reason, error.field) == (Reason.OUTSIDE_HOURS, "start")
    assert error.message == "10:00 AM WIB is outside Ayu's hours: Ayu is not available on Thu, 26 Nov 2026."


def test_too_far_ahead_says_how_far_bookings_go(profile):
    error = refused(profile, start=local(date(2027, 1, 23), 10))  # the horizon is Sat 23 Jan, 08.00 WIB
    assert (error.reason, error.field) == (Reason.TOO_FAR, "start")
    assert error.message == (
        "That is too far ahead: Ayu takes bookings up to 60 days ahead, until Sat, 23 Jan 2027, 8:00 AM WIB."
    )
    # The date shown is the last start on the half-hour grid, not the odd minute the horizon falls on.
    error = refused(profile, start=local(date(2027, 1, 23), 10), now=NOW + 7 * MINUTE)
    assert error.message.endswith("until Sat, 23 Jan 2027, 8:00 AM WIB.")
    # The last start on the horizon itself is bookable (test_transitions holds it), one slot later is not.
    assert refused(profile, start=NOW + timedelta(days=60, minutes=30), hours=1).reason == Reason.TOO_FAR


def test_a_start_off_the_grid_says_starts_are_on_the_hour_or_half_hour(profile):
    for start in (START + 15 * MINUTE, START + 15 * MINUTE + timedelta(seconds=1)):
        error = refused(profile, start=start)
        assert (error.reason, error.field) == (Reason.OFF_GRID, "start")
        assert error.message == "Bookings start on the hour or half hour, such as 10:00 AM WIB or 10:30 AM WIB."


def test_the_companions_own_notice_is_worded_like_the_platforms_lead_time(db):
    profile = make_companion(min_notice_minutes=24 * 60)
    error = refused(profile, start=local(date(2026, 11, 24), 20))  # 12 hours ahead
    assert (error.reason, error.field) == (Reason.TOO_SOON, "start")
    assert error.message == (
        "Bookings with Ayu must start at least 24 hours from now, so from Wed, 25 Nov 2026, 8:00 AM WIB."
    )
    # The earliest start shown is on the half-hour grid.
    error = refused(profile, start=local(date(2026, 11, 24), 20), now=NOW + 7 * MINUTE)
    assert error.message.endswith("so from Wed, 25 Nov 2026, 8:30 AM WIB.")
    # The platform's own minimum lead time (3 hours) keeps its message.
    error = refused(profile, start=NOW + 150 * MINUTE)
    assert (error.reason, error.field) == ("lead_time", "start")
    assert error.message == "Bookings must start at least 3 hours from now."


def test_time_off_says_the_companion_is_away_that_day(profile):
    TimeOff.objects.create(profile=profile, start_date=THURSDAY, end_date=THURSDAY)
    error = refused(profile, start=START)
    assert (error.reason, error.field) == (Reason.TIME_OFF, "start")
    assert error.message == "Ayu is away on Thu, 26 Nov 2026. Please choose another day."


def test_a_booking_running_past_midnight_into_a_day_off(db):
    profile = make_companion(ranges=((3, 20 * 60, 6 * 60),))  # Thursdays 20.00 to Friday 02.00
    TimeOff.objects.create(
        profile=profile, start_date=THURSDAY + timedelta(days=1), end_date=THURSDAY + timedelta(days=1)
    )
    error = refused(profile, start=local(THURSDAY, 23))
    assert (error.reason, error.field) == (Reason.TIME_OFF, "start")
    assert error.message == "Ayu is away on Fri, 27 Nov 2026. Please choose another day."
    TimeOff.objects.all().delete()
    assert request(new_customer(), profile, start=local(THURSDAY, 23)).end == local(THURSDAY, 23) + 2 * HOUR


def test_a_booking_running_past_the_hours(profile):
    error = refused(profile, start=local(THURSDAY, 21))  # 21.00 for 2 hours, the hours end at 22.00
    assert (error.reason, error.field) == (Reason.RUNS_PAST_HOURS, "start")
    assert error.message == (
        "The booking would run past Ayu's hours, which end at 10:00 PM WIB. Choose at most 1 hour or an earlier start."
    )
    error = refused(profile, start=local(THURSDAY, 21, 30))
    assert error.message == (
        "The booking would run past Ayu's hours, which end at 10:00 PM WIB. Choose an earlier start."
    )


def test_the_duration_limits_name_the_companion(db):
    profile = make_companion(min_hours=2, max_hours=4)
    error = refused(profile, hours=1)
    assert (error.message, error.field) == ("Ayu takes bookings of at least 2 hours.", "hours")
    error = refused(profile, hours=5)
    assert (error.message, error.field) == ("Ayu takes bookings of at most 4 hours.", "hours")
    error = refused(make_companion(max_hours=1), hours=2)
    assert (error.message, error.field) == ("Ayu takes bookings of at most 1 hour.", "hours")


# --- "Just taken" only for a lost race -------------------------------------------------------------------


JUST_TAKEN = "That time was just taken. Please choose another time."


def test_a_time_another_booking_holds_is_just_taken(profile):
    request(new_customer(), profile)  # 10.00-12.00, held with the buffer until 12.30
    for start in (START, START + HOUR, START + 2 * HOUR):
        error = refused(profile, start=start)
        assert type(error) is SlotTaken
        assert (error.message, error.field) == (JUST_TAKEN, None)


def test_a_held_time_is_just_taken_only_when_the_schedule_allows_it(profile):
    """Held and also off the grid: the schedule's reason wins (the time was never free)."""
    request(new_customer(), profile)
    assert refused(profile, start=START + 15 * MINUTE).reason == Reason.OFF_GRID


# --- The service agrees with the engine, start by start -------------------------------------------------


def test_the_service_refuses_with_the_engines_reason_or_just_taken(profile):
    """Over a day of starts every 15 minutes (some held by a booking), the service books exactly the
    free starts, says "just taken" exactly where the schedule allows the start but a booking holds it,
    and otherwise gives the engine's reason."""
    request(new_customer(), profile, start=local(THURSDAY, 12))
    fresh = CompanionProfile.objects.prefetch_related("weekly_hours", "time_off").get(pk=profile.pk)
    seen = set()
    for quarter in range(0, 24 * 4, 3):
        start = local(THURSDAY, 0) + quarter * 15 * MINUTE
        schedule = companion_selectors.schedule_for(fresh, start=start, end=start, now=NOW)
        duration = 2 * HOUR
        free = start in free_start_times(
            schedule, start=start, end=start + timedelta(microseconds=1), duration=duration, now=NOW
        )
        reason = why_not_free(schedule, start=start, duration=duration, now=NOW)
        try:
            with translation.override("en"):
                booking = request(new_customer(), profile, start=start)
        except SlotTaken:
            outcome = "taken"
            assert reason is None and not free
        except TimeNotBookable as error:
            outcome = error.reason
            assert reason is not None and error.reason == reason.reason
        else:
            outcome = "booked"
            assert free and booking.start == start
            Booking.objects.filter(pk=booking.pk).delete()  # keep the day as it was for the next start
        seen.add(outcome)
    assert seen == {"booked", "taken", Reason.OFF_GRID, Reason.OUTSIDE_HOURS, Reason.RUNS_PAST_HOURS}


# --- The engine: the reason is None exactly when the start is free (held time aside) --------------------


def _random_schedule(rng: random.Random, base: date) -> Schedule:
    weekly: dict[int, list[tuple[int, int]]] = {}
    for weekday in range(7):
        minute = rng.choice([0, 0, 30, 15]) + 60 * rng.randrange(0, 12)
        for _ in range(rng.randrange(0, 3)):
            length = 60 + 30 * rng.randrange(0, 30)
            if minute >= 24 * 60:
                break
            weekly.setdefault(weekday, []).append((minute, length))
            minute += length + 30 * rng.randrange(1, 8)
    time_off = []
    for _ in range(rng.randrange(0, 3)):
        first = base + timedelta(days=rng.randrange(-1, 20))
        time_off.append((first, first + timedelta(days=rng.randrange(0, 3))))
    return Schedule(
        time_zone=rng.choice([WIB, WITA, WIT]),
        weekly=weekly,
        time_off=time_off,
        min_notice=timedelta(minutes=rng.choice([0, 60, 180, 181, 24 * 60])),
        horizon=timedelta(days=rng.randrange(1, 20)),
        buffer=timedelta(minutes=rng.choice([0, 30, 60])),
    )


def test_the_reason_is_none_exactly_when_the_engine_offers_the_start():
    rng = random.Random(11)
    base = date(2026, 11, 24)
    reasons = set()
    for _ in range(150):
        now = datetime(2026, 11, 24, 1, 0, tzinfo=ZoneInfo("UTC")) + timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
        now += timedelta(seconds=rng.choice([0, 0, 17]))
        schedule = _random_schedule(rng, base)
        # Held time must not change the answer: the reason is about the schedule alone.
        busy_start = now + timedelta(hours=rng.randrange(0, 200))
        held = replace(schedule, busy=[(busy_start, busy_start + timedelta(hours=rng.randrange(1, 6)))])
        for _ in range(20):
            start = now + timedelta(minutes=15 * rng.randrange(-8, 4 * 24 * 22))
            start = start.replace(second=0, microsecond=0) if rng.random() < 0.9 else start
            duration = timedelta(hours=rng.randrange(1, 13))
            offered = start in free_start_times(
                schedule, start=start, end=start + timedelta(microseconds=1), duration=duration, now=now
            )
            reason = why_not_free(held, start=start, duration=duration, now=now)
            assert (reason is None) == offered, (schedule, start, duration, now, reason)
            reasons.add(reason.reason if reason else None)
    assert reasons == {None, *Reason}


# --- The request page --------------------------------------------------------------------------------------


@pytest.fixture
def customer_client(client, db):
    client.cookies["kompanion_language"] = "en"
    client.force_login(new_customer())
    return client


def test_the_page_says_why_a_time_is_outside_the_hours_and_offers_that_days_times(customer_client, profile):
    day = timezone.now().astimezone(WIB).date() + timedelta(days=3)
    start = local(day, 3)
    response = customer_client.get(new_url(profile, start))
    assert response.status_code == 422
    content = response.content.decode()
    expected = (
        f"3:00 AM WIB is outside Ayu&#x27;s hours. On {format_date(day, language='en')}, "
        "Ayu is available 8:00 AM–10:00 PM WIB."
    )
    assert expected in content
    assert "just taken" not in content and "no longer free" not in content
    assert response.context["alternatives"] and 'type="radio"' in content


def test_a_posted_request_off_the_grid_shows_the_reason_and_keeps_what_was_typed(customer_client, profile):
    day = timezone.now().astimezone(WIB).date() + timedelta(days=3)
    start = local(day, 10, 15)
    place = "Taman Suropati, Menteng"
    form = booking_form(start, meeting_place=place, note="Jalan sore")
    response = customer_client.post(new_url(profile, start), form)
    assert response.status_code == 422
    content = response.content.decode()
    assert "Bookings start on the hour or half hour, such as 10:00 AM WIB or 10:30 AM WIB." in content
    assert place in content and "Jalan sore" in content
    assert local(day, 10, 30) in response.context["alternatives"]
    assert Booking.objects.count() == 0


def test_a_posted_request_for_a_held_time_is_still_just_taken(customer_client, profile):
    day = timezone.now().astimezone(WIB).date() + timedelta(days=3)
    start = local(day, 10)
    request(new_customer(), profile, start=start, now=timezone.now())
    response = customer_client.post(new_url(profile, start), booking_form(start))
    assert response.status_code == 409
    assert JUST_TAKEN in response.content.decode()
    assert Booking.objects.count() == 1
