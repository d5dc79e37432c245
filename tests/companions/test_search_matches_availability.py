"""The SQL search filter ("free on date D [at time T] for H hours") must agree exactly with the
availability engine, which is the reference. Random schedules, random clocks, random questions.

The population also holds random bookings in every status (some holding time, some past their
deadline, some closed). The two kinds of question treat them differently, by design:

- "free at D T for H hours" must subtract the time bookings hold, buffer included: it is compared with
  the engine reading those bookings.
- "free on D for H hours" (date only) deliberately ignores bookings: it answers "does this companion
  work that day", cheaply, and the profile page then shows the times still free. It is compared with
  the engine on the same schedules without any bookings.
"""

import dataclasses
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings.models import Booking, BookingStatus
from bookings.pricing import compute_price
from companions import availability, selectors
from companions.models import Activity, City, CompanionProfile, TimeOff
from companions.selectors import SearchQuery
from tests.companions.helpers import listed_companion
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CITIES = ["jakarta", "denpasar", "jayapura"]  # WIB, WITA, WIT
VIEWER_ZONES = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]


def random_week(rng: random.Random) -> list[tuple[int, int, int]]:
    ranges, used = [], set()
    for _ in range(rng.randint(1, 5)):
        weekday = rng.randrange(7)
        if weekday in used:
            continue
        used.add(weekday)
        start = rng.randrange(0, 48) * 30
        length = rng.choice([60, 120, 180, 240, 360, 480, 600])
        ranges.append((weekday, start, length))
    return ranges


def make_population(rng: random.Random, today: date, count: int = 36) -> list[CompanionProfile]:
    profiles = []
    for index in range(count):
        for _attempt in range(20):
            try:
                profile = listed_companion(
                    city=CITIES[index % 3],
                    ranges=random_week(rng),
                    name=f"p{index}",
                    min_notice_minutes=rng.choice([60, 180, 600, 1440]),
                    horizon_days=rng.choice([7, 14, 60]),
                    buffer_minutes=rng.choice([0, 30, 60, 90]),
                )
                break
            except Exception:  # noqa: S112 - overlapping random week: draw again
                continue
        if rng.random() < 0.6:
            first = today + timedelta(days=rng.randrange(0, 10))
            TimeOff.objects.create(
                profile=profile, start_date=first, end_date=first + timedelta(days=rng.randrange(0, 3))
            )
        profiles.append(profile)
    return profiles


S = BookingStatus
# (status, whether it holds time before its deadline). Statuses outside the database's holding set
# may overlap anything; the others must respect the exclusion constraints on PostgreSQL.
STATUSES = [
    S.REQUESTED,
    S.REQUESTED,
    S.AWAITING_PAYMENT,
    S.AWAITING_PAYMENT,
    S.CONFIRMED,
    S.CONFIRMED,
    S.DISPUTED,
    S.DECLINED,
    S.WITHDRAWN,
    S.EXPIRED,
    S.CANCELLED,
    S.COMPLETED,
]
CONSTRAINED = {S.REQUESTED, S.AWAITING_PAYMENT, S.CONFIRMED, S.DISPUTED}


def add_bookings(rng: random.Random, profiles: list[CompanionProfile], now: datetime) -> list[Booking]:
    """Up to five bookings per companion inside their working hours over the next two weeks (and the
    day before), in random statuses, with deadlines before or after `now`. Direct ORM rows: the
    services' rules are tested elsewhere; here only what availability reads matters."""
    activity = Activity.objects.get(slug="hangout")
    bookings = []
    for profile in profiles:
        customer = CustomerFactory()  # one per companion: their holds never overlap each other
        schedule = selectors.schedule_for(profile, start=now, end=now, now=now)
        windows = availability.working_windows(schedule, now - timedelta(days=1), now + timedelta(days=17))
        held: list[tuple[datetime, datetime]] = []
        for _ in range(rng.randint(0, 5) if windows else 0):
            window_start, window_end = rng.choice(windows)
            hours = rng.choice([1, 2, 3])
            first = availability.ceil_to_slot(window_start)
            slots = max(1, int((window_end - first) / availability.SLOT_STEP))
            start = first + rng.randrange(slots) * availability.SLOT_STEP
            end = start + timedelta(hours=hours)
            hold_until = end + timedelta(minutes=profile.buffer_minutes)
            status = rng.choice(STATUSES)
            if status in CONSTRAINED:
                if any(start < other_end and other_start < hold_until for other_start, other_end in held):
                    continue
                held.append((start, hold_until))
            price = compute_price(hourly_rate=profile.hourly_rate, hours=hours, commission_basis_points=2000)
            # Deadlines on either side of `now`, sometimes exactly at it (a deadline at `now` has passed).
            deadline = now + rng.choice([-90, -1, 0, 0, 1, 30, 600]) * timedelta(minutes=1)
            bookings.append(
                Booking(
                    customer=customer,
                    companion=profile,
                    start=start,
                    end=end,
                    hold_until=hold_until,
                    activity=activity,
                    meeting_place="Mal Kota Kasablanka",
                    status=status,
                    hourly_rate=price.hourly_rate,
                    hours=hours,
                    subtotal=price.subtotal,
                    service_fee=price.service_fee,
                    total=price.total,
                    commission_basis_points=price.commission_basis_points,
                    commission=price.commission,
                    companion_earnings=price.companion_earnings,
                    response_deadline=deadline,
                    payment_deadline=deadline if status != S.REQUESTED else None,
                    complete_after=end + timedelta(hours=24),
                )
            )
    return Booking.objects.bulk_create(bookings)


def precomputed_schedules(profiles, bookings, *, now) -> dict[int, availability.Schedule]:
    """Each companion's schedule read once, through the same `selectors.schedule_for` the profile page
    uses, over a span that holds every booking (a day either side of all of them)."""
    span_start = min([now, *(booking.start for booking in bookings)]) - timedelta(days=1)
    span_end = max([now, *(booking.hold_until for booking in bookings)]) + timedelta(days=1)
    schedules = {
        profile.pk: selectors.schedule_for(profile, start=span_start, end=span_end, now=now) for profile in profiles
    }
    # Nothing left out: every booking that holds time at `now` is busy time in its companion's schedule.
    busy = sorted((pk, start) for pk, schedule in schedules.items() for start, _end in schedule.busy)
    held = sorted((booking.companion_id, booking.start) for booking in bookings if booking.holds_time_at(now))
    assert busy == held
    return schedules


# Busy time further than this from the asked window cannot change the engine's answer (a question asks
# for at most 4 hours and the buffer is at most 90 minutes); a day is ample.
NEAR = timedelta(days=1)


def reference_ids(profiles, schedules, *, moment=None, day=None, hours, now) -> tuple[set[int], set[int]]:
    """The engine's answer with the bookings that hold time at `now`, and without any bookings.

    The schedules are read once per companion (see `precomputed_schedules`), not once per question:
    that read was most of this test's time. Where a companion has busy time near the asked window, its
    schedule is still read for that window, as the profile page reads it, so the narrow read of
    bookings stays compared with the search; elsewhere the narrow read can only find a subset of the
    wide read's busy time, all of it too far away to matter."""
    free, free_without_bookings = set(), set()
    duration = timedelta(hours=hours)
    for profile in profiles:
        zone = ZoneInfo(profile.time_zone)
        if moment is not None:
            start, end = moment, moment + timedelta(microseconds=1)
        else:
            start = datetime.combine(day, time(0), tzinfo=zone)
            end = start + timedelta(days=1)
        schedule = schedules[profile.pk]
        if any(busy_start < end + NEAR and busy_end > start - NEAR for busy_start, busy_end in schedule.busy):
            schedule = selectors.schedule_for(profile, start=start, end=end, now=now)
        if availability.free_start_times(schedule, start=start, end=end, duration=duration, now=now):
            free.add(profile.pk)
        without = dataclasses.replace(schedule, busy=[])
        if availability.free_start_times(without, start=start, end=end, duration=duration, now=now):
            free_without_bookings.add(profile.pk)
    return free, free_without_bookings


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_search_filter_equals_the_availability_engine(seed):
    rng = random.Random(seed)
    now = datetime(2026, 11, 24, rng.randrange(24), rng.choice([0, 7, 30, 45]), tzinfo=ZoneInfo("UTC"))
    today = now.date()
    make_population(rng, today)
    profiles = list(
        CompanionProfile.objects.select_related("city", "user").prefetch_related("weekly_hours", "time_off")
    )
    bookings = add_bookings(rng, profiles, now)
    holding = [booking for booking in bookings if booking.holds_time_at(now) and booking.start > now]
    schedules = precomputed_schedules(profiles, bookings, now=now)
    cities = {city.slug: city for city in City.objects.filter(slug__in=CITIES)}
    checked = nonempty = bookings_mattered = 0
    for _ in range(150):
        hours = rng.choice([1, 2, 3, 4])
        day = today + timedelta(days=rng.randrange(-1, 16))
        if rng.random() < 0.5:
            viewer = rng.choice(VIEWER_ZONES)
            if rng.random() < 0.7:  # around a booking (mostly one holding time), where the buffer's edges are
                booking = rng.choice(holding if rng.random() < 0.7 else bookings)
                offset = rng.randrange(-8, 6) * availability.SLOT_STEP
                moment = (booking.start + offset).astimezone(ZoneInfo(viewer))
                day, start_time = moment.date(), moment.time()
            else:
                start_time = time(rng.randrange(24), rng.choice([0, 30]))
                moment = datetime.combine(day, start_time, tzinfo=ZoneInfo(viewer))
            query = SearchQuery(day=day, start_time=start_time, hours=hours, viewer_time_zone=viewer)
            expected, without_bookings = reference_ids(profiles, schedules, moment=moment, hours=hours, now=now)
            bookings_mattered += expected != without_bookings
        else:
            # Date only: bookings deliberately do not count (see the module docstring).
            query = SearchQuery(day=day, hours=hours)
            _with_bookings, expected = reference_ids(profiles, schedules, day=day, hours=hours, now=now)
        if rng.random() < 0.5:  # with a city, only that zone's branch of the filter is built
            city = cities[rng.choice(CITIES)]
            query = dataclasses.replace(query, city=city)
            expected = {profile.pk for profile in profiles if profile.pk in expected and profile.city_id == city.pk}
        ordered = list(selectors.search_companions(query, now=now).values_list("pk", flat=True))
        found = set(ordered)
        # The page's rows come from the same filter compiled once per shape, its values bound per search.
        rows = selectors.search_page(query, offset=0, limit=len(profiles) + 1, now=now)
        assert [pk for pk, _slug in rows] == ordered
        assert found == expected, f"{query} at {now}: only SQL {found - expected}, only engine {expected - found}"
        checked += 1
        nonempty += bool(expected)
    # The comparison means something only if many questions had companions free, and bookings
    # changed the answer to a good number of the at-time questions.
    assert checked == 150 and nonempty >= 30
    assert len(bookings) >= 40 and len(holding) >= 15
    assert bookings_mattered >= 5, bookings_mattered
