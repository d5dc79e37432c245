"""The availability rules, on plain data (no database)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from companions.availability import Schedule, free_start_times, is_free

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")
SATURDAY = date(2026, 11, 28)  # weekday 5
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=WIB)  # Wednesday morning


def at(day: date, hour: int, minute: int = 0, zone=WIB) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def schedule(**overrides) -> Schedule:
    values = {
        "time_zone": WIB,
        "weekly": {5: [(10 * 60, 4 * 60)]},  # Saturday 10.00–14.00
        "min_notice": timedelta(hours=3),
        "horizon": timedelta(days=60),
        "buffer": timedelta(minutes=30),
    }
    values.update(overrides)
    return Schedule(**values)


def day_starts(sched: Schedule, day: date, hours: int, now=NOW, zone=WIB) -> list[str]:
    starts = free_start_times(
        sched,
        start=at(day, 0, zone=zone),
        end=at(day + timedelta(days=1), 0, zone=zone),
        duration=timedelta(hours=hours),
        now=now,
    )
    return [moment.astimezone(zone).strftime("%H:%M") for moment in starts]


def test_starts_on_the_half_hour_and_the_whole_booking_fits():
    assert day_starts(schedule(), SATURDAY, 2) == ["10:00", "10:30", "11:00", "11:30", "12:00"]
    assert day_starts(schedule(), SATURDAY, 4) == ["10:00"]
    assert day_starts(schedule(), SATURDAY, 5) == []


def test_other_weekdays_are_closed():
    assert day_starts(schedule(), SATURDAY - timedelta(days=1), 1) == []


def test_time_off_removes_whole_local_days():
    off = schedule(time_off=[(SATURDAY, SATURDAY)])
    assert day_starts(off, SATURDAY, 1) == []
    assert day_starts(off, SATURDAY + timedelta(days=7), 1)[:1] == ["10:00"]


def test_minimum_notice_counts_from_now():
    now = at(SATURDAY, 8, 15)
    # 3 hours of notice from 08.15 is 11.15, so the first start is 11.30.
    assert day_starts(schedule(), SATURDAY, 2, now=now) == ["11:30", "12:00"]
    assert day_starts(schedule(min_notice=timedelta(hours=6)), SATURDAY, 2, now=now) == []


def test_horizon_stops_far_bookings():
    far = SATURDAY + timedelta(days=63)
    assert day_starts(schedule(), far, 2) == []
    assert day_starts(schedule(horizon=timedelta(days=90)), far, 2)[:1] == ["10:00"]


def test_busy_time_is_blocked_with_the_buffer_on_both_sides():
    busy = [(at(SATURDAY, 11, 30), at(SATURDAY, 12, 30))]
    sched = schedule(weekly={5: [(8 * 60, 8 * 60)]}, busy=busy)  # 08.00–16.00
    # A 1-hour booking must end by 11.00 (buffer before) or start at 13.00 (buffer after).
    assert day_starts(sched, SATURDAY, 1) == [
        "08:00",
        "08:30",
        "09:00",
        "09:30",
        "10:00",
        "13:00",
        "13:30",
        "14:00",
        "14:30",
        "15:00",
    ]
    assert day_starts(schedule(weekly={5: [(8 * 60, 8 * 60)]}, busy=busy, buffer=timedelta(0)), SATURDAY, 1)[5:7] == [
        "10:30",
        "12:30",
    ]


def test_a_wita_companion_seen_by_a_wib_customer():
    """Bali companion free 10.00–14.00 WITA is free 09.00–13.00 WIB: the same instants."""
    bali = schedule(time_zone=WITA)
    starts_wita = day_starts(bali, SATURDAY, 2, zone=WITA)
    assert starts_wita == ["10:00", "10:30", "11:00", "11:30", "12:00"]
    assert is_free(bali, start=at(SATURDAY, 9, 0, zone=WIB), duration=timedelta(hours=2), now=NOW)
    assert not is_free(bali, start=at(SATURDAY, 12, 30, zone=WIB), duration=timedelta(hours=2), now=NOW)
    # A Papua companion (WIT, two hours ahead of WIB) working 10.00–14.00 WIT = 08.00–12.00 WIB.
    papua = schedule(time_zone=WIT)
    assert is_free(papua, start=at(SATURDAY, 8, 0, zone=WIB), duration=timedelta(hours=4), now=NOW)
    assert not is_free(papua, start=at(SATURDAY, 10, 0, zone=WIB), duration=timedelta(hours=4), now=NOW)


def test_a_range_across_midnight():
    """Friday 20.00 for 6 hours runs until Saturday 02.00."""
    night = schedule(weekly={4: [(20 * 60, 6 * 60)]})
    friday, saturday = SATURDAY - timedelta(days=1), SATURDAY
    assert day_starts(night, friday, 2) == ["20:00", "20:30", "21:00", "21:30", "22:00", "22:30", "23:00", "23:30"]
    assert day_starts(night, saturday, 2) == ["00:00"]
    assert is_free(night, start=at(friday, 23, 0), duration=timedelta(hours=3), now=NOW)
    # Time off on Saturday cuts the range at midnight.
    cut = schedule(weekly={4: [(20 * 60, 6 * 60)]}, time_off=[(saturday, saturday)])
    assert not is_free(cut, start=at(friday, 23, 0), duration=timedelta(hours=2), now=NOW)
    assert is_free(cut, start=at(friday, 22, 0), duration=timedelta(hours=2), now=NOW)


def test_a_start_off_the_grid_is_never_free():
    assert not is_free(schedule(), start=at(SATURDAY, 10, 15), duration=timedelta(hours=1), now=NOW)
