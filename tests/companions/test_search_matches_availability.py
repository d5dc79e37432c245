"""The SQL search filter ("free on date D [at time T] for H hours") must agree exactly with the
availability engine, which is the reference. Random schedules, random clocks, random questions."""

import dataclasses
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from companions import selectors
from companions.models import City, CompanionProfile, TimeOff
from companions.selectors import SearchQuery
from tests.companions.helpers import listed_companion

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


def reference_ids(profiles, *, moment=None, day=None, hours, now) -> set[int]:
    free = set()
    for profile in profiles:
        zone = ZoneInfo(profile.time_zone)
        if moment is not None:
            start, end = moment, moment + timedelta(microseconds=1)
        else:
            start = datetime.combine(day, time(0), tzinfo=zone)
            end = start + timedelta(days=1)
        if selectors.free_start_times(profile, start=start, end=end, hours=hours, now=now):
            free.add(profile.pk)
    return free


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_search_filter_equals_the_availability_engine(seed):
    rng = random.Random(seed)
    now = datetime(2026, 11, 24, rng.randrange(24), rng.choice([0, 7, 30, 45]), tzinfo=ZoneInfo("UTC"))
    today = now.date()
    make_population(rng, today)
    profiles = list(
        CompanionProfile.objects.select_related("city", "user").prefetch_related("weekly_hours", "time_off")
    )
    checked = nonempty = 0
    for _ in range(150):
        hours = rng.choice([1, 2, 3, 4])
        day = today + timedelta(days=rng.randrange(-1, 16))
        if rng.random() < 0.5:
            viewer = rng.choice(VIEWER_ZONES)
            start_time = time(rng.randrange(24), rng.choice([0, 30]))
            moment = datetime.combine(day, start_time, tzinfo=ZoneInfo(viewer))
            query = SearchQuery(day=day, start_time=start_time, hours=hours, viewer_time_zone=viewer)
            expected = reference_ids(profiles, moment=moment, hours=hours, now=now)
        else:
            query = SearchQuery(day=day, hours=hours)
            expected = reference_ids(profiles, day=day, hours=hours, now=now)
        if rng.random() < 0.5:  # with a city, only that zone's branch of the filter is built
            city = City.objects.get(slug=rng.choice(CITIES))
            query = dataclasses.replace(query, city=city)
            expected = {profile.pk for profile in profiles if profile.pk in expected and profile.city_id == city.pk}
        found = set(selectors.search_companions(query, now=now).values_list("pk", flat=True))
        assert found == expected, f"{query} at {now}: only SQL {found - expected}, only engine {expected - found}"
        checked += 1
        nonempty += bool(expected)
    # The comparison means something only if many questions had companions free.
    assert checked == 150 and nonempty >= 30
