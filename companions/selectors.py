"""Reads for companion pages: a fixed number of queries per page, whatever the number of results."""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    DateTimeField,
    DurationField,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from accounts.models import User
from companions import availability, booking_facts, page_cache
from companions.availability import DAY_MINUTES, Schedule
from companions.models import (
    Activity,
    City,
    CompanionPhoto,
    CompanionProfile,
    SpokenLanguage,
    TimeOff,
    WeeklyHours,
)
from core.decorators import is_trusted_staff
from core.i18n import IndonesianTimeZone


class MinutesDuration(Func):
    """An integer column of minutes as a duration, so it can be added to a datetime in SQL:
    make_interval() on PostgreSQL; microseconds (Django's duration format) on SQLite."""

    output_field = DurationField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} * 60000000)", params

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"make_interval(mins => {sql})", params


def busy_intervals(
    profile: CompanionProfile, start: datetime, end: datetime, *, now: datetime
) -> list[availability.Interval]:
    """[start, end) of this companion's bookings that hold time at `now` near [start, end); the
    availability engine widens them by the buffer."""
    held = booking_facts.held_spans(now)
    if held is None:
        return []
    margin = timedelta(minutes=profile.buffer_minutes)
    nearby = held.filter(companion_id=profile.pk, start__lt=end + margin, hold_until__gt=start - margin)
    # A booking holds until the later of its end + today's buffer and its stored hold_until (end + the
    # buffer when it was booked): the database constraint uses the stored one, so a shortened buffer
    # must not offer times the constraint would refuse.
    return [
        (booking_start, max(booking_end, hold_until - margin))
        for booking_start, booking_end, hold_until in nearby.values_list("start", "end", "hold_until")
    ]


def schedule_for(profile: CompanionProfile, *, start: datetime, end: datetime, now: datetime) -> Schedule:
    """Needs `weekly_hours` and `time_off` prefetched (see `listed_profiles`) to stay query-free."""
    weekly: dict[int, list[tuple[int, int]]] = {}
    for hours in profile.weekly_hours.all():
        weekly.setdefault(hours.weekday, []).append((hours.start_minute, hours.length_minutes))
    return Schedule(
        time_zone=ZoneInfo(profile.time_zone),
        weekly=weekly,
        time_off=[(off.start_date, off.end_date) for off in profile.time_off.all()],
        min_notice=timedelta(minutes=profile.min_notice_minutes),
        horizon=timedelta(days=profile.horizon_days),
        buffer=timedelta(minutes=profile.buffer_minutes),
        busy=busy_intervals(profile, start, end + timedelta(days=1), now=now),
    )


def free_start_times(
    profile: CompanionProfile, *, start: datetime, end: datetime, hours: int, now: datetime | None = None
) -> list[datetime]:
    now = now or timezone.now()
    schedule = schedule_for(profile, start=start, end=end, now=now)
    return availability.free_start_times(schedule, start=start, end=end, duration=timedelta(hours=hours), now=now)


@dataclass(frozen=True)
class DaySlots:
    day: date
    starts: list[datetime] = field(default_factory=list)


def free_slots_by_day(
    profile: CompanionProfile, *, days: int = 14, hours: int | None = None, now: datetime | None = None
) -> list[DaySlots]:
    """Free start times for the next `days` days in the companion's zone, grouped by local day."""
    now = now or timezone.now()
    zone = ZoneInfo(profile.time_zone)
    today = now.astimezone(zone).date()
    start = availability.local_midnight(today, zone)
    end = availability.local_midnight(today + timedelta(days=days), zone)
    starts = free_start_times(profile, start=start, end=end, hours=hours or profile.min_hours, now=now)
    by_day = {today + timedelta(days=offset): DaySlots(today + timedelta(days=offset), []) for offset in range(days)}
    for moment in starts:
        by_day[moment.astimezone(zone).date()].starts.append(moment)
    return list(by_day.values())


# --- Search ------------------------------------------------------------------------------------------


class Sort:
    RECOMMENDED = "recommended"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"
    CHOICES = (RECOMMENDED, PRICE_ASC, PRICE_DESC, NEWEST)


@dataclass(frozen=True)
class SearchQuery:
    """Validated search parameters (built by forms.SearchForm; anything invalid is simply absent)."""

    city: City | None = None
    activity: Activity | None = None
    language: SpokenLanguage | None = None
    day: date | None = None
    start_time: time | None = None
    hours: int = 2
    price_min: int | None = None
    price_max: int | None = None
    gender: str = ""
    age_min: int | None = None
    age_max: int | None = None
    keyword: str = ""
    sort: str = Sort.RECOMMENDED
    viewer_time_zone: str = IndonesianTimeZone.WIB


def search_choices() -> dict:
    """Cities and activities for search forms outside the search page (the home page's card)."""
    return {
        "cities": City.objects.only("name", "slug"),
        "activities": Activity.objects.filter(is_active=True),
    }


def listed_profiles() -> QuerySet[CompanionProfile]:
    """Listed profiles with everything a card needs, in a constant number of queries."""
    return (
        CompanionProfile.objects.filter(is_listed=True, user__is_active=True)
        .select_related("user", "city")
        .prefetch_related(
            Prefetch("photos", queryset=CompanionPhoto.objects.filter(is_cover=True), to_attr="cover_photos"),
        )
    )


def _birth_date_bounds(age_min: int | None, age_max: int | None, today: date) -> Q:
    condition = Q()
    if age_min is not None:
        # At least age_min years old: born on or before today minus age_min years.
        condition &= Q(user__date_of_birth__lte=_years_before(today, age_min))
    if age_max is not None:
        # At most age_max: born after today minus (age_max + 1) years.
        condition &= Q(user__date_of_birth__gt=_years_before(today, age_max + 1))
    return condition


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _free_at_filter(moment: datetime, hours: int, now: datetime, zones: tuple[str, ...]) -> Q:
    """Profiles free for [moment, moment + hours): the SQL twin of availability.is_free (tested
    against it). One OR branch per Indonesian zone, because weekday and wall-clock time differ.

    Each hours subquery also reads the outer profile's notice, in an inequality. When a subquery's
    only links to the outer row are equalities (profile_id = id), PostgreSQL may run it "hashed":
    once, over every companion's hours for that weekday, before the first candidate (30-50 ms at
    100,000 companions, growing with them, while the page needs a few hundred candidates). With an
    outer column in an inequality it cannot, so each candidate, in the page's order, is probed on
    the (profile, weekday) index until the page is full. tests/companions/test_search_sql.py checks
    the plan."""
    length = hours * 60
    minutes_until = (moment - now).total_seconds() / 60
    if minutes_until <= 0 or moment != availability.ceil_to_slot(moment):
        return Q(pk__in=[])
    horizon_days_needed = math.ceil(minutes_until / DAY_MINUTES)
    # The notice rule again (it is also in the outer filter below), in whole minutes as the column is.
    probe_per_candidate = LessThanOrEqual(OuterRef("min_notice_minutes"), math.floor(minutes_until))
    branches = Q()
    for zone_name in zones:
        local = moment.astimezone(ZoneInfo(zone_name))
        day = local.date()
        minute = local.hour * 60 + local.minute
        end_local = local + timedelta(minutes=length)
        last_day = (end_local - timedelta(microseconds=1)).date()
        same_day = WeeklyHours.objects.filter(
            probe_per_candidate,
            profile=OuterRef("pk"),
            weekday=day.weekday(),
            start_minute__lte=minute,
            length_minutes__gte=minute + length - F("start_minute"),
        )
        from_yesterday = WeeklyHours.objects.filter(
            probe_per_candidate,
            profile=OuterRef("pk"),
            weekday=(day.weekday() - 1) % 7,
            length_minutes__gte=DAY_MINUTES + minute + length - F("start_minute"),
        )
        time_off = TimeOff.objects.filter(profile=OuterRef("pk"), start_date__lte=last_day, end_date__gte=day)
        branches |= Q(city__time_zone=zone_name) & (Exists(same_day) | Exists(from_yesterday)) & ~Exists(time_off)
    # No booking holding time within the buffer of [moment, moment + length).
    held = booking_facts.held_spans(now)
    free = Q()
    if held is not None:
        buffer = MinutesDuration(OuterRef("buffer_minutes"))
        busy = held.filter(
            companion_id=OuterRef("pk"),
            start__lt=Value(moment + timedelta(minutes=length), output_field=DateTimeField()) + buffer,
        ).filter(Q(end__gt=Value(moment, output_field=DateTimeField()) - buffer) | Q(hold_until__gt=moment))
        free = ~Exists(busy)
    return branches & free & Q(min_notice_minutes__lte=minutes_until, horizon_days__gte=horizon_days_needed)


def _free_on_day_filter(day: date, hours: int, now: datetime, zones: tuple[str, ...]) -> Q:
    """Profiles with at least one free start on `day` (the companion's local date) for `hours`: the
    SQL twin of `availability.free_start_times` over that day (tested against it).

    With M = minutes from that day's local midnight to now, a start t (minutes after midnight, on
    the half-hour grid, at most 23.30) is allowed when E = ceil30(M) + notice <= t <= floor30(M) +
    horizon. A range (s, L) offers starts s .. s + L - length; yesterday's range running past
    midnight offers 0 .. s + L - 24 h - length. A booking running past midnight needs tomorrow free
    of time off; otherwise it must end by midnight.

    Bookings are not subtracted here (that would need interval arithmetic per candidate in SQL): a
    companion whose whole day is booked still matches "free on D", and their profile shows no free
    times that day. With a start time (`_free_at_filter`) bookings are subtracted exactly.
    """
    length = hours * 60
    last_start = DAY_MINUTES - 30
    branches = Q()
    for zone_name in zones:
        minutes = (now - availability.local_midnight(day, ZoneInfo(zone_name))).total_seconds() / 60
        up, down = math.ceil(minutes / 30) * 30, math.floor(minutes / 30) * 30
        earliest = OuterRef("min_notice_minutes") + up
        latest = OuterRef("horizon_days") * DAY_MINUTES + down
        same_day = WeeklyHours.objects.filter(
            profile=OuterRef("pk"),
            weekday=day.weekday(),
            length_minutes__gte=length,
            start_minute__lte=latest,
            start_minute__gte=earliest - F("length_minutes") + length,
        )
        ends_by_midnight = same_day.filter(start_minute__lte=DAY_MINUTES - length)
        from_yesterday = WeeklyHours.objects.filter(
            profile=OuterRef("pk"),
            weekday=(day.weekday() - 1) % 7,
            start_minute__gte=DAY_MINUTES + length - F("length_minutes"),
        ).filter(start_minute__gte=earliest + DAY_MINUTES + length - F("length_minutes"))
        off_today = TimeOff.objects.filter(profile=OuterRef("pk"), start_date__lte=day, end_date__gte=day)
        tomorrow = day + timedelta(days=1)
        off_tomorrow = TimeOff.objects.filter(profile=OuterRef("pk"), start_date__lte=tomorrow, end_date__gte=tomorrow)
        branches |= (
            Q(city__time_zone=zone_name)
            & ~Exists(off_today)
            # E <= 23.30 and E <= the latest start
            & Q(min_notice_minutes__lte=last_start - up)
            & Q(min_notice_minutes__lte=F("horizon_days") * DAY_MINUTES + down - up)
            & (
                (Exists(same_day) & ~Exists(off_tomorrow))
                | (Exists(ends_by_midnight) & Q(min_notice_minutes__lte=DAY_MINUTES - length - up))
                | (Exists(from_yesterday) & Q(horizon_days__gte=math.ceil(max(0, -down) / DAY_MINUTES)))
            )
        )
    return branches


def search_companions(query: SearchQuery, *, now: datetime | None = None) -> QuerySet[CompanionProfile]:
    now = now or timezone.now()
    profiles = listed_profiles()
    if query.city:
        profiles = profiles.filter(city=query.city)
    if query.activity:
        profiles = profiles.filter(
            Exists(
                CompanionProfile.activities.through.objects.filter(
                    companionprofile_id=OuterRef("pk"), activity_id=query.activity.pk
                )
            )
        )
    if query.language:
        profiles = profiles.filter(
            Exists(
                CompanionProfile.languages.through.objects.filter(
                    companionprofile_id=OuterRef("pk"), spokenlanguage_id=query.language.pk
                )
            )
        )
    if query.gender:
        profiles = profiles.filter(gender=query.gender)
    if query.price_min is not None:
        profiles = profiles.filter(hourly_rate__gte=query.price_min)
    if query.price_max is not None:
        profiles = profiles.filter(hourly_rate__lte=query.price_max)
    if query.age_min is not None or query.age_max is not None:
        today = now.astimezone(ZoneInfo(query.viewer_time_zone)).date()
        profiles = profiles.filter(_birth_date_bounds(query.age_min, query.age_max, today))
    if query.keyword:
        profiles = profiles.filter(Q(display_name__icontains=query.keyword) | Q(bio__icontains=query.keyword))
    # A city has one zone: build (and let the database evaluate) only that branch of the filter.
    zones = (query.city.time_zone,) if query.city else tuple(IndonesianTimeZone.values)
    if query.day and query.start_time:
        moment = datetime.combine(query.day, query.start_time, tzinfo=ZoneInfo(query.viewer_time_zone))
        profiles = profiles.filter(_free_at_filter(moment, query.hours, now, zones)).filter(
            min_hours__lte=query.hours, max_hours__gte=query.hours
        )
    elif query.day:
        profiles = profiles.filter(_free_on_day_filter(query.day, query.hours, now, zones)).filter(
            min_hours__lte=query.hours, max_hours__gte=query.hours
        )
    ordering = {
        Sort.PRICE_ASC: ("hourly_rate", "-listed_at", "pk"),
        Sort.PRICE_DESC: ("-hourly_rate", "-listed_at", "pk"),
        Sort.NEWEST: ("-listed_at", "pk"),
        # Until ratings exist (bookings/reviews issues): verified longest first, a stable order.
        Sort.RECOMMENDED: ("listed_at", "pk"),
    }[query.sort if query.sort in Sort.CHOICES else Sort.RECOMMENDED]
    return profiles.order_by(*ordering)


# The profile row as the public pages cache it (page_cache.cached_fragment, by the companion's version):
# the user's sign-in and contact details are left out, so no password hash, email or phone number is ever
# copied into the cache. Bump PROFILE_DATA_FORMAT when what is cached changes shape.
PROFILE_DATA_FORMAT = 1
_USER_FIELDS_SHOWN = ("id", "is_active", "date_of_birth", "full_name")


def _profile_data(slug: str, prefetch: tuple) -> CompanionProfile | None:
    user_fields_left_out = [
        f"user__{field.name}" for field in User._meta.concrete_fields if field.name not in _USER_FIELDS_SHOWN
    ]
    return (
        CompanionProfile.objects.select_related("user", "city")
        .defer(*user_fields_left_out)
        .prefetch_related(*prefetch)
        .filter(slug=slug)
        .first()
    )


def _cached_profile_data(slug: str, kind: str, prefetch: tuple) -> CompanionProfile | None:
    """The profile with `prefetch`ed relations, from the fragment cache when it has it: the profile page
    and the slot picker then ask the database only for the bookings (busy_intervals: they depend on the
    clock). Weekly hours and time off are cached with it (their writes bump the companion's version)."""
    return page_cache.cached_fragment(
        kind, (PROFILE_DATA_FORMAT,), slug=slug, render=lambda: _profile_data(slug, prefetch)
    )


def public_profile(slug: str, *, viewer) -> CompanionProfile | None:
    """The profile page's data. Unlisted profiles are visible only to their owner and staff."""
    profile = _cached_profile_data(
        slug,
        "profile-data",
        (
            Prefetch("photos", queryset=CompanionPhoto.objects.order_by("-is_cover", "position", "id")),
            "activities",
            "languages",
            "weekly_hours",
            "time_off",
        ),
    )
    if profile is None:
        return None
    if profile.is_listed and profile.user.is_active:
        return profile
    if viewer.is_authenticated and (viewer.pk == profile.user_id or is_trusted_staff(viewer)):
        return profile
    return None


def bookable_profile_data(slug: str) -> CompanionProfile | None:
    """What the slot picker needs (activities, weekly hours, time off), as bookings.selectors.
    bookable_profile filters it (listed, not paused, an active user), from the fragment cache when it
    has it. For pages only: a booking is written against bookable_profile's fresh row."""
    profile = _cached_profile_data(slug, "booking-profile-data", ("activities", "weekly_hours", "time_off"))
    if profile is None or not (profile.is_listed and not profile.is_paused and profile.user.is_active):
        return None
    return profile
