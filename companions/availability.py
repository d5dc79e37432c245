"""Free start times: weekly hours minus time off, minimum notice, horizon and busy time (+ buffer).

Pure functions over plain data (`Schedule`), so the rules are tested without a database and the
same code serves the profile page and the booking form, and is the reference the SQL search filter
is tested against. All datetimes are aware; weekly hours are wall-clock minutes in the companion's
zone. Indonesian zones have no daylight saving, so every local time exists exactly once.

`why_not_free` is the same rule read backwards: for one start that is not free, the first reason the
schedule gives (too soon, too far, off the grid, time off, outside the hours, running past them).
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

SLOT_STEP = timedelta(minutes=30)
DAY_MINUTES = 24 * 60

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Schedule:
    time_zone: ZoneInfo
    # weekday (Monday = 0) -> [(start minute after local midnight, length in minutes)]
    weekly: dict[int, list[tuple[int, int]]]
    time_off: list[tuple[date, date]] = field(default_factory=list)  # inclusive local dates
    min_notice: timedelta = timedelta(hours=3)
    horizon: timedelta = timedelta(days=60)
    buffer: timedelta = timedelta(minutes=30)
    # Time other bookings hold (the bookings issue supplies it); the buffer is added on both sides.
    busy: list[Interval] = field(default_factory=list)


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    holes = _merge(holes)
    result = []
    for start, end in intervals:
        pieces = [(start, end)]
        for hole_start, hole_end in holes:
            next_pieces = []
            for piece_start, piece_end in pieces:
                if hole_end <= piece_start or hole_start >= piece_end:
                    next_pieces.append((piece_start, piece_end))
                    continue
                if piece_start < hole_start:
                    next_pieces.append((piece_start, hole_start))
                if hole_end < piece_end:
                    next_pieces.append((hole_end, piece_end))
            pieces = next_pieces
        result.extend(pieces)
    return result


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def working_windows(schedule: Schedule, start: datetime, end: datetime) -> list[Interval]:
    """The companion's working time overlapping [start, end), minus time off, merged."""
    zone = schedule.time_zone
    day = start.astimezone(zone).date() - timedelta(days=1)  # yesterday's range may run past midnight
    last = end.astimezone(zone).date()
    windows: list[Interval] = []
    while day <= last:
        midnight = local_midnight(day, zone)
        for start_minute, length_minutes in schedule.weekly.get(day.weekday(), []):
            window_start = midnight + timedelta(minutes=start_minute)
            window_end = window_start + timedelta(minutes=length_minutes)
            if window_end > start and window_start < end:
                windows.append((window_start, window_end))
        day += timedelta(days=1)
    off = [
        (local_midnight(off_start, zone), local_midnight(off_end + timedelta(days=1), zone))
        for off_start, off_end in schedule.time_off
    ]
    return _subtract(_merge(windows), off)


def free_windows(schedule: Schedule, start: datetime, end: datetime) -> list[Interval]:
    """Working windows minus busy time widened by the buffer on both sides."""
    blocked = [(busy_start - schedule.buffer, busy_end + schedule.buffer) for busy_start, busy_end in schedule.busy]
    return _subtract(working_windows(schedule, start, end), blocked)


def free_start_times(
    schedule: Schedule, *, start: datetime, end: datetime, duration: timedelta, now: datetime
) -> list[datetime]:
    """Every start in [start, end) on the half-hour grid such that the whole booking
    [s, s + duration) is free, s >= now + minimum notice and s <= now + horizon."""
    earliest = max(start, now + schedule.min_notice)
    latest = min(end, now + schedule.horizon + timedelta(microseconds=1))
    if earliest >= latest:
        return []
    starts: set[datetime] = set()
    for window_start, window_end in free_windows(schedule, earliest, latest + duration):
        candidate = ceil_to_slot(max(window_start, earliest))
        while candidate + duration <= window_end and candidate < latest:
            starts.add(candidate)
            candidate += SLOT_STEP
    return sorted(starts)


def is_free(schedule: Schedule, *, start: datetime, duration: timedelta, now: datetime) -> bool:
    window_end = start + timedelta(microseconds=1)
    return start in free_start_times(schedule, start=start, end=window_end, duration=duration, now=now)


class Reason(StrEnum):
    """Why a start is not a free start time, by the companion's schedule (held time aside)."""

    TOO_SOON = "too_soon"  # inside the minimum notice
    TOO_FAR = "too_far"  # past the booking horizon
    OFF_GRID = "off_grid"  # not on the hour or half hour
    TIME_OFF = "time_off"  # the start's day, or a day the booking runs into, is time off
    OUTSIDE_HOURS = "outside_hours"  # the start is outside the weekly hours
    RUNS_PAST_HOURS = "runs_past_hours"  # the start is inside the hours, start + duration is not


@dataclass(frozen=True)
class NotFree:
    """The first reason a start is not free, with what a message needs to say so."""

    reason: Reason
    # TOO_SOON: the first start on the grid inside the rules; TOO_FAR: the last one;
    # RUNS_PAST_HOURS: when the hours the start lies in end.
    moment: datetime | None = None
    # TIME_OFF: the day away; OUTSIDE_HOURS: the start's day (both local dates in the companion's zone).
    day: date | None = None
    # OUTSIDE_HOURS: the working time on that day (a range from the day before starts at midnight).
    hours: list[Interval] = field(default_factory=list)


def why_not_free(schedule: Schedule, *, start: datetime, duration: timedelta, now: datetime) -> NotFree | None:
    """The first reason `start` is not a free start time for `duration`, ignoring the time other bookings
    hold (`schedule.busy`); None when it is free apart from them. It follows `free_start_times` step by
    step, so `why_not_free(...) is None` exactly when `start` is in `free_start_times` of the schedule
    without busy time (tests/bookings/test_unbookable_reasons.py compares them on random starts). A start
    that is not free although this says None is held by a booking."""
    earliest = now + schedule.min_notice
    if start < earliest:
        return NotFree(Reason.TOO_SOON, moment=ceil_to_slot(earliest))
    latest = now + schedule.horizon
    if start > latest:
        last_start = ceil_to_slot(latest)
        return NotFree(Reason.TOO_FAR, moment=last_start if last_start == latest else last_start - SLOT_STEP)
    if start != ceil_to_slot(start):
        return NotFree(Reason.OFF_GRID)
    end = start + duration
    # The same window free_start_times reads for this one start ([start, start + 1 µs) + duration).
    reach = end + timedelta(microseconds=1)
    windows = working_windows(schedule, start, reach)
    if any(window_start <= start and end <= window_end for window_start, window_end in windows):
        return None
    zone = schedule.time_zone
    start_day = start.astimezone(zone).date()
    if _is_off(schedule, start_day):
        return NotFree(Reason.TIME_OFF, day=start_day)
    around = [(window_start, window_end) for window_start, window_end in windows if window_start <= start < window_end]
    if not around:
        midnight = local_midnight(start_day, zone)
        day_hours = working_windows(schedule, midnight, local_midnight(start_day + timedelta(days=1), zone))
        hours = [(max(window_start, midnight), window_end) for window_start, window_end in day_hours]
        return NotFree(Reason.OUTSIDE_HOURS, day=start_day, hours=hours)
    without_time_off = working_windows(replace(schedule, time_off=[]), start, reach)
    if any(window_start <= start and end <= window_end for window_start, window_end in without_time_off):
        # The hours would hold the booking, but it runs into a day off (past midnight).
        last_day = end.astimezone(zone).date()
        days_off = (start_day + timedelta(days=offset) for offset in range(1, (last_day - start_day).days + 1))
        day_off = next((day for day in days_off if _is_off(schedule, day)), None)
        if day_off is not None:
            return NotFree(Reason.TIME_OFF, day=day_off)
    return NotFree(Reason.RUNS_PAST_HOURS, moment=around[0][1])


def _is_off(schedule: Schedule, day: date) -> bool:
    return any(off_start <= day <= off_end for off_start, off_end in schedule.time_off)


def ceil_to_slot(moment: datetime) -> datetime:
    """Up to the next half hour. Every Indonesian zone is a whole number of hours from UTC, so the
    half-hour grid is the same in UTC, WIB, WITA and WIT."""
    floored = moment.replace(minute=(moment.minute // 30) * 30, second=0, microsecond=0)
    return floored if floored == moment else floored + SLOT_STEP
