"""Reads for companion pages: a fixed number of queries per page, whatever the number of results."""

import json
import math
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connections, router
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DurationField,
    Exists,
    F,
    Field,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone

from accounts.models import Block, User
from companions import availability, booking_facts, early_access, page_cache
from companions.availability import DAY_MINUTES, Schedule
from companions.models import (
    RATING_SHOWN_FROM,
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


class IdList(Field):
    """A list of ids as one parameter: an array on PostgreSQL, JSON text on SQLite (the dev fallback)."""

    def get_db_prep_value(self, value, connection, prepared=False):
        ids = [int(pk) for pk in value]
        return ids if connection.vendor == "postgresql" else json.dumps(ids)


class AmongIds(Func):
    """`expression` is one of the ids of a list parameter (IdList): `id = ANY(%s)`, one parameter however
    many ids, so a compiled shape serves every list."""

    output_field = BooleanField()

    def __init__(self, expression, ids, *, negated: bool = False):
        super().__init__(expression, ids)
        self.negated = negated

    def as_sql(self, compiler, connection, **extra_context):
        column, column_params = compiler.compile(self.source_expressions[0])
        ids, ids_params = compiler.compile(self.source_expressions[1])
        among = f"{column} IN (SELECT value FROM json_each({ids}))"  # noqa: S608 - compiled SQL, values are parameters
        return (f"NOT ({among})" if self.negated else f"({among})"), [*column_params, *ids_params]

    def as_postgresql(self, compiler, connection, **extra_context):
        column, column_params = compiler.compile(self.source_expressions[0])
        ids, ids_params = compiler.compile(self.source_expressions[1])
        among = f"{column} = ANY({ids})"
        return (f"NOT ({among})" if self.negated else f"({among})"), [*column_params, *ids_params]


class Probe(Exists):
    """EXISTS, checked per candidate row: the search's subqueries (activity, hours, time off, bookings).

    OFFSET 0 keeps PostgreSQL from rewriting the subquery: it may not turn it into a join (a page
    query with five such joins spent 2 ms of its 3 ms planning the join order, on every request) nor
    run it "hashed" (once, over a whole table, before the first candidate: every companion's hours
    for a weekday, 30-50 ms at 100,000 companions, while a page needs a few hundred candidates). Each
    stays a subplan on the candidate's own index entries, and the planner tries the cheap ones first
    (the activity before the hours), stopping at the first that fails. tests/companions/test_search_sql.py
    checks the plan's shape."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


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
    BEST_RATED = "best_rated"
    CHOICES = (RECOMMENDED, PRICE_ASC, PRICE_DESC, NEWEST, BEST_RATED)


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
    min_rating: int | None = None  # a shown rating (from RATING_SHOWN_FROM reviews) of at least this
    sort: str = Sort.RECOMMENDED
    viewer_time_zone: str = IndonesianTimeZone.WIB
    # A signed-in viewer involved in a block (User.has_blocks): companions blocked either way are left out.
    viewer_with_blocks: int | None = None
    # Early access (companions/early_access.py): companions first listed after this moment are left out.
    listed_by: datetime | None = None


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


# The search filter is built from a shape (which filters, which zones, the order) and values (the
# city, the weekday, minutes...). `search_companions` builds a QuerySet with the values in it;
# `search_page` compiles each shape's SQL once per process and runs it with the request's values (building
# and compiling the filter cost more CPU than the query itself). Both build it with `_search_filter`.
_collecting_slots: ContextVar[bool] = ContextVar("search_collecting_slots", default=False)


@dataclass(frozen=True)
class _Slot:
    """A parameter of a compiled search shape, bound from the request's values when it runs."""

    name: str
    field: Field
    like: bool

    def bind(self, values: dict, connection) -> object:
        if self.like:
            return connection.ops.prep_for_like_query(values[self.name])
        return self.field.get_db_prep_value(values[self.name], connection=connection)


class Bound(Value):
    """A named value of the search filter: a plain parameter, or a slot while a shape is compiled.
    `like`: a pattern lookup's text (escaped as Django escapes a plain value; the lookup adds the %)."""

    def __init__(self, name: str, value, output_field: Field, *, like: bool = False):
        super().__init__(value, output_field=output_field)
        self.name, self.like = name, like

    def as_sql(self, compiler, connection):
        if _collecting_slots.get():
            return "%s", [_Slot(self.name, self.output_field, self.like)]
        return "%s", [_Slot(self.name, self.output_field, self.like).bind({self.name: self.value}, connection)]


class _Values(dict):
    """The request's values, handed to the filter's builder as Bound expressions."""

    def __call__(self, name: str, field_class=IntegerField, **kwargs) -> Bound:
        return Bound(name, self[name], field_class(), **kwargs)


def _birth_date_bounds(age_min: int | None, age_max: int | None, today: date) -> dict:
    bounds = {}
    if age_min is not None:
        # At least age_min years old: born on or before today minus age_min years.
        bounds["born_by"] = _years_before(today, age_min)
    if age_max is not None:
        # At most age_max: born after today minus (age_max + 1) years.
        bounds["born_after"] = _years_before(today, age_max + 1)
    return bounds


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _free_at_values(moment: datetime, hours: int, now: datetime, zones: tuple[str, ...]) -> dict | None:
    """The values of `_free_at_filter` (None: no one can be free then)."""
    length = hours * 60
    minutes_until = (moment - now).total_seconds() / 60
    if minutes_until <= 0 or moment != availability.ceil_to_slot(moment):
        return None
    values = {
        # Whole minutes, as the notice column is (an integer lookup truncates a float the same way).
        "minutes_until": math.floor(minutes_until),
        "horizon_days_needed": math.ceil(minutes_until / DAY_MINUTES),
        "moment": moment,
        "moment_end": moment + timedelta(minutes=length),
    }
    for zone_name in zones:
        local = moment.astimezone(ZoneInfo(zone_name))
        minute = local.hour * 60 + local.minute
        end_local = local + timedelta(minutes=length)
        values |= {
            f"{zone_name}:weekday": local.date().weekday(),
            f"{zone_name}:yesterday": (local.date().weekday() - 1) % 7,
            f"{zone_name}:minute": minute,
            f"{zone_name}:end_minute": minute + length,
            f"{zone_name}:end_minute_yesterday": DAY_MINUTES + minute + length,
            f"{zone_name}:day": local.date(),
            f"{zone_name}:last_day": (end_local - timedelta(microseconds=1)).date(),
        }
    return values


def _free_at_filter(v: _Values, zones: tuple[str, ...], now) -> Q:
    """Profiles free for [moment, moment + hours): the SQL twin of availability.is_free (tested
    against it). One OR branch per zone in `zones`, because weekday and wall-clock time differ; a
    single zone (a city chosen) needs no branch, nor the join to the cities that tells zones apart.
    Every subquery is a `Probe`, checked per candidate in the page's order until the page is full."""
    branches = Q()
    for zone_name in zones:
        same_day = WeeklyHours.objects.filter(
            profile=OuterRef("pk"),
            weekday=v(f"{zone_name}:weekday"),
            start_minute__lte=v(f"{zone_name}:minute"),
            length_minutes__gte=v(f"{zone_name}:end_minute") - F("start_minute"),
        )
        from_yesterday = WeeklyHours.objects.filter(
            profile=OuterRef("pk"),
            weekday=v(f"{zone_name}:yesterday"),
            length_minutes__gte=v(f"{zone_name}:end_minute_yesterday") - F("start_minute"),
        )
        time_off = TimeOff.objects.filter(
            profile=OuterRef("pk"),
            start_date__lte=v(f"{zone_name}:last_day", DateField),
            end_date__gte=v(f"{zone_name}:day", DateField),
        )
        branches |= _in_zone(zone_name, zones) & (Probe(same_day) | Probe(from_yesterday)) & ~Probe(time_off)
    # No booking holding time within the buffer of [moment, moment + length).
    held = booking_facts.held_spans(now)
    free = Q()
    if held is not None:
        buffer = MinutesDuration(OuterRef("buffer_minutes"))
        busy = held.filter(
            companion_id=OuterRef("pk"),
            start__lt=v("moment_end", DateTimeField) + buffer,
        ).filter(Q(end__gt=v("moment", DateTimeField) - buffer) | Q(hold_until__gt=v("moment", DateTimeField)))
        free = ~Probe(busy)
    return branches & free & Q(min_notice_minutes__lte=v("minutes_until"), horizon_days__gte=v("horizon_days_needed"))


def _in_zone(zone_name: str, zones: tuple[str, ...]) -> Q:
    """The companions of one zone's branch: all of them when the search has one zone (a city chosen,
    whose zone it is: see `_search_values`)."""
    return Q(city__time_zone=zone_name) if len(zones) > 1 else Q()


def _free_on_day_values(day: date, hours: int, now: datetime, zones: tuple[str, ...]) -> dict:
    """The values of `_free_on_day_filter`."""
    length = hours * 60
    last_start = DAY_MINUTES - 30
    tomorrow = day + timedelta(days=1)
    values = {"day": day, "tomorrow": tomorrow, "weekday": day.weekday(), "yesterday": (day.weekday() - 1) % 7}
    values |= {"length": length, "length_after_midnight": DAY_MINUTES + length, "last_fit": DAY_MINUTES - length}
    for zone_name in zones:
        minutes = (now - availability.local_midnight(day, ZoneInfo(zone_name))).total_seconds() / 60
        up, down = math.ceil(minutes / 30) * 30, math.floor(minutes / 30) * 30
        values |= {
            f"{zone_name}:up": up,
            f"{zone_name}:down": down,
            f"{zone_name}:up_after_midnight": up + DAY_MINUTES,
            f"{zone_name}:last_start_notice": last_start - up,
            f"{zone_name}:down_minus_up": down - up,
            f"{zone_name}:fit_notice": DAY_MINUTES - length - up,
            f"{zone_name}:horizon_days": math.ceil(max(0, -down) / DAY_MINUTES),
        }
    return values


def _free_on_day_filter(v: _Values, zones: tuple[str, ...]) -> Q:
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
    length = v("length")
    branches = Q()
    for zone_name in zones:
        earliest = OuterRef("min_notice_minutes") + v(f"{zone_name}:up")
        latest = OuterRef("horizon_days") * DAY_MINUTES + v(f"{zone_name}:down")
        same_day = WeeklyHours.objects.filter(
            profile=OuterRef("pk"),
            weekday=v("weekday"),
            length_minutes__gte=length,
            start_minute__lte=latest,
            start_minute__gte=earliest - F("length_minutes") + length,
        )
        ends_by_midnight = same_day.filter(start_minute__lte=v("last_fit"))
        from_yesterday = WeeklyHours.objects.filter(
            profile=OuterRef("pk"),
            weekday=v("yesterday"),
            start_minute__gte=v("length_after_midnight") - F("length_minutes"),
        ).filter(
            start_minute__gte=OuterRef("min_notice_minutes")
            + v(f"{zone_name}:up_after_midnight")
            + length
            - F("length_minutes")
        )
        off_today = TimeOff.objects.filter(
            profile=OuterRef("pk"), start_date__lte=v("day", DateField), end_date__gte=v("day", DateField)
        )
        off_tomorrow = TimeOff.objects.filter(
            profile=OuterRef("pk"), start_date__lte=v("tomorrow", DateField), end_date__gte=v("tomorrow", DateField)
        )
        branches |= (
            _in_zone(zone_name, zones)
            & ~Probe(off_today)
            # E <= 23.30 and E <= the latest start
            & Q(min_notice_minutes__lte=v(f"{zone_name}:last_start_notice"))
            & Q(min_notice_minutes__lte=F("horizon_days") * DAY_MINUTES + v(f"{zone_name}:down_minus_up"))
            & (
                (Probe(same_day) & ~Probe(off_tomorrow))
                | (Probe(ends_by_midnight) & Q(min_notice_minutes__lte=v(f"{zone_name}:fit_notice")))
                | (Probe(from_yesterday) & Q(horizon_days__gte=v(f"{zone_name}:horizon_days")))
            )
        )
    return branches


SEARCH_ORDERING = {
    Sort.PRICE_ASC: ("hourly_rate", "-listed_at", "pk"),
    Sort.PRICE_DESC: ("-hourly_rate", "-listed_at", "pk"),
    Sort.NEWEST: ("-listed_at", "pk"),
    # Until ratings exist (bookings/reviews issues): verified longest first, a stable order.
    Sort.RECOMMENDED: ("listed_at", "pk"),
    # The Bayesian mean (models.bayesian_rating), so one 5-star review does not beat sixty at 4.8.
    Sort.BEST_RATED: ("-rating_score", "listed_at", "pk"),
}


def _search_values(query: SearchQuery, now: datetime) -> tuple[tuple, dict] | None:
    """(shape, values) of a search: the shape decides the SQL, the values are its parameters. None
    when nothing can match (a start time in the past or off the half-hour grid)."""
    values: dict = {}
    for name in ("price_min", "price_max", "gender", "keyword"):
        if getattr(query, name) not in (None, ""):
            values[name] = getattr(query, name)
    if query.city:
        values["city"] = query.city.pk
    if query.activity:
        values["activity"] = query.activity.pk
    if query.language:
        values["language"] = query.language.pk
    if query.viewer_with_blocks:
        values["viewer"] = query.viewer_with_blocks
    if query.listed_by is not None:
        values["listed_by"] = query.listed_by
    if query.min_rating:
        # The shown rating is bayesian_rating rounded to one decimal: "4,0" from a mean of 3.95 up, which
        # rating_score (the mean x 1000, truncated) says as 3950.
        values["min_rating"] = query.min_rating * 1000 - 50
    if query.age_min is not None or query.age_max is not None:
        today = now.astimezone(ZoneInfo(query.viewer_time_zone)).date()
        values |= _birth_date_bounds(query.age_min, query.age_max, today)
    # A city has one zone: build (and let the database evaluate) only that branch of the filter.
    zones = (query.city.time_zone,) if query.city else tuple(IndonesianTimeZone.values)
    mode = None
    if query.day:
        mode = "at" if query.start_time else "day"
        values["hours"] = query.hours
    if mode == "at":
        moment = datetime.combine(query.day, query.start_time, tzinfo=ZoneInfo(query.viewer_time_zone))
        free = _free_at_values(moment, query.hours, now, zones)
        if free is None:
            return None
        values |= free
        values["now"] = now
    elif mode == "day":
        values |= _free_on_day_values(query.day, query.hours, now, zones)
    sort = query.sort if query.sort in Sort.CHOICES else Sort.RECOMMENDED
    return (tuple(sorted(values)), zones, mode, sort), values


def _search_filter(shape: tuple, v: _Values) -> QuerySet[CompanionProfile]:
    """The search's queryset (without select_related/prefetch) for a shape, its values in `v`."""
    names, zones, mode, sort = shape
    profiles = CompanionProfile.objects.filter(is_listed=True, user__is_active=True)
    if "city" in names:
        profiles = profiles.filter(city_id=v("city"))
    if "activity" in names:
        through = CompanionProfile.activities.through.objects
        profiles = profiles.filter(Probe(through.filter(companionprofile_id=OuterRef("pk"), activity_id=v("activity"))))
    if "language" in names:
        through = CompanionProfile.languages.through.objects
        profiles = profiles.filter(
            Probe(through.filter(companionprofile_id=OuterRef("pk"), spokenlanguage_id=v("language")))
        )
    if "gender" in names:
        profiles = profiles.filter(gender=v("gender", CharField))
    if "min_rating" in names:
        profiles = profiles.filter(rating_count__gte=RATING_SHOWN_FROM, rating_score__gte=v("min_rating"))
    if "viewer" in names:
        viewer = v("viewer")
        either_way = Q(blocker_id=viewer, blocked_id=OuterRef("user_id")) | Q(
            blocker_id=OuterRef("user_id"), blocked_id=viewer
        )
        profiles = profiles.filter(~Probe(Block.objects.filter(either_way)))
    if "listed_by" in names:  # early access: the newest companions only for members
        profiles = profiles.filter(Q(listed_at__lte=v("listed_by", DateTimeField)) | Q(listed_at__isnull=True))
    if "price_min" in names:
        profiles = profiles.filter(hourly_rate__gte=v("price_min"))
    if "price_max" in names:
        profiles = profiles.filter(hourly_rate__lte=v("price_max"))
    if "born_by" in names:
        profiles = profiles.filter(user__date_of_birth__lte=v("born_by", DateField))
    if "born_after" in names:
        profiles = profiles.filter(user__date_of_birth__gt=v("born_after", DateField))
    if "keyword" in names:
        keyword = v("keyword", CharField, like=True)
        profiles = profiles.filter(Q(display_name__icontains=keyword) | Q(bio__icontains=keyword))
    if "only" in names:  # the promoted companions among the results (search_page)
        profiles = profiles.filter(AmongIds(F("pk"), v("only", IdList)))
    if "excluded" in names:  # the results without those lifted to the top of the first page
        profiles = profiles.filter(AmongIds(F("pk"), v("excluded", IdList), negated=True))
    if mode == "at":
        profiles = profiles.filter(_free_at_filter(v, zones, v("now", DateTimeField)))
    elif mode == "day":
        profiles = profiles.filter(_free_on_day_filter(v, zones))
    if mode:
        profiles = profiles.filter(min_hours__lte=v("hours"), max_hours__gte=v("hours"))
    return profiles.order_by(*SEARCH_ORDERING[sort])


def search_companions(query: SearchQuery, *, now: datetime | None = None) -> QuerySet[CompanionProfile]:
    """The search as a QuerySet with everything a card needs (see `search_page` for the page's rows)."""
    searched = _search_values(query, now or timezone.now())
    if searched is None:
        return listed_profiles().none()
    shape, values = searched
    profiles = _search_filter(shape, _Values(values))
    return profiles.select_related("user", "city").prefetch_related(
        Prefetch("photos", queryset=CompanionPhoto.objects.filter(is_cover=True), to_attr="cover_photos"),
    )


_compiled_shapes: dict[tuple, tuple[str, list]] = {}
MAX_COMPILED_SHAPES = 2000


def _compiled(shape: tuple, values: dict, connection) -> tuple[str, list]:
    """The SQL of (id, slug) rows for a shape, with its parameters (constants and slots), once per process."""
    key = (connection.alias, connection.vendor, *shape)
    found = _compiled_shapes.get(key)
    if found is None:
        queryset = _search_filter(shape, _Values(values)).values_list("pk", "slug")
        token = _collecting_slots.set(True)
        try:
            found = queryset.query.get_compiler(connection=connection).as_sql()
        finally:
            _collecting_slots.reset(token)
        if len(_compiled_shapes) >= MAX_COMPILED_SHAPES:
            _compiled_shapes.clear()
        _compiled_shapes[key] = found
    return found


def _bound(params: list, values: dict, connection) -> list:
    return [param.bind(values, connection) if isinstance(param, _Slot) else param for param in params]


def card_profiles(ids: list[int]) -> dict[int, CompanionProfile]:
    """id -> listed profile with what a search card shows, for the cards not in the card cache (3 queries)."""
    activities = Prefetch("activities", queryset=Activity.objects.order_by("position"))
    profiles = listed_profiles().prefetch_related(activities)
    return {profile.pk: profile for profile in profiles.filter(pk__in=ids)}


# Sorotan (issue 17): at most this many promoted companions are lifted to the top of the first page.
PROMOTED_PER_PAGE = 2


def search_page(
    query: SearchQuery,
    *,
    offset: int,
    limit: int,
    now: datetime | None = None,
    promoted: frozenset[int] = frozenset(),
) -> list[tuple[int, str]]:
    """(id, slug) of `limit` results from `offset`, in the search's order: one query, its SQL compiled
    once per shape (the same filter as `search_companions`, tested to agree).

    `promoted` (companions.promoted_facts.promoted_ids): the first PROMOTED_PER_PAGE of them that match
    the search, in its order, are moved to the top of the first page, and every page after it is the
    search's order without them (one query more: the same filter, only the promoted). So the results
    are the same set whatever is promoted, each once: a promoted companion who does not match every
    filter, or is not free at the searched time, is never shown, and the count does not change. Other
    promoted companions keep their place."""
    searched = _search_values(query, now or timezone.now())
    if searched is None:
        return []
    shape, values = searched
    lifted = []
    if promoted:
        only = _with_ids(shape, values, "only", promoted)
        lifted = _rows(*only, offset=0, limit=PROMOTED_PER_PAGE)
    if not lifted:
        return _rows(shape, values, offset=offset, limit=limit)
    head = lifted[offset : offset + limit]
    rest = _with_ids(shape, values, "excluded", [pk for pk, _slug in lifted])
    return head + _rows(*rest, offset=max(0, offset - len(lifted)), limit=limit - len(head))


def promoted_on_page(rows: list[tuple[int, str]], *, offset: int, promoted: frozenset[int]) -> set[int]:
    """Which rows of a page `search_page` lifted for their promotion (labelled "Promoted"): on the first
    page, the promoted companions at its top, at most PROMOTED_PER_PAGE."""
    if offset or not promoted:
        return set()
    lifted = set()
    for pk, _slug in rows[:PROMOTED_PER_PAGE]:
        if pk not in promoted:
            break
        lifted.add(pk)
    return lifted


def _with_ids(shape: tuple, values: dict, name: str, ids) -> tuple[tuple, dict]:
    """The shape and values with a list of ids ("only" these, or these "excluded")."""
    values = {**values, name: sorted(ids)}
    return (tuple(sorted(values)), *shape[1:]), values


def _reading_connection():
    """The connection the router reads companions from (the read replica on the search page, when safe:
    core/db_router.py), as a queryset would: these two queries run their compiled SQL by hand."""
    return connections[router.db_for_read(CompanionProfile)]


def _rows(shape: tuple, values: dict, *, offset: int, limit: int) -> list[tuple[int, str]]:
    if limit <= 0:
        return []
    connection = _reading_connection()
    sql, params = _compiled(shape, values, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT %s OFFSET %s", [*_bound(params, values, connection), limit, offset])
        return [tuple(row) for row in cursor.fetchall()]


def search_count(query: SearchQuery, *, limit: int, now: datetime | None = None) -> int:
    """How many results there are, counting at most `limit` (a page past the end needs no more)."""
    searched = _search_values(query, now or timezone.now())
    if searched is None:
        return 0
    shape, values = searched
    connection = _reading_connection()
    sql, params = _compiled(shape, values, connection)
    with connection.cursor() as cursor:
        # Django's own compiled SQL around the limit; every value is a parameter.
        counted = f"SELECT COUNT(*) FROM ({sql} LIMIT %s) AS found"  # noqa: S608
        cursor.execute(counted, [*_bound(params, values, connection), limit])
        return cursor.fetchone()[0]


# The profile row as the public pages cache it (page_cache.cached_fragment, by the companion's version):
# the user's sign-in and contact details are left out, so no password hash, email or phone number is ever
# copied into the cache. Bump PROFILE_DATA_FORMAT when what is cached changes shape.
PROFILE_DATA_FORMAT = 3
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
    """The profile page's data. Unlisted profiles are visible only to their owner and staff, and so are new
    ones in their early window (early_access.py) to viewers without early access."""
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
    if profile.is_listed and profile.user.is_active and not early_access.hidden_from(profile, viewer, timezone.now()):
        return profile
    if viewer.is_authenticated and (viewer.pk == profile.user_id or is_trusted_staff(viewer)):
        return profile
    return None


def bookable_profile_data(slug: str) -> CompanionProfile | None:
    """What the slot picker needs (activities, weekly hours, time off), as bookings.selectors.
    bookable_profile filters it (listed, not paused, an active user), from the fragment cache when it
    has it. For pages only: a booking is written against bookable_profile's fresh row."""
    profile = _cached_profile_data(slug, "booking-profile-data", ("activities", "weekly_hours", "time_off"))
    if profile is None or not profile.is_bookable:
        return None
    return profile
