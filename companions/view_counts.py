"""How often companions are seen: search impressions (each companion on a results page) and profile views,
counted per day in the cache (core.counters: one round trip, no database write, nothing lost to a page
while Redis is down but the counts) and flushed to the database by products (its DailyStat, every 5 min).

Searches themselves (the liquidity figures, issue 18) are counted the same way: `count_search` adds one to a
cell of the day's SEARCHES counter, one int that encodes what was searched (`search_cell`, below). Analytics
decodes the cells and flushes them into its SearchStat (analytics/traffic.py); companions never imports it."""

import logging
from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from core import counters

logger = logging.getLogger(__name__)

SEARCH_IMPRESSIONS = "companions:search-impressions"
PROFILE_VIEWS = "companions:profile-views"
SEARCHES = "companions:searches"
# The statistics' days are Jakarta's (WIB), like the platform's other daily figures.
COUNT_TIME_ZONE = ZoneInfo("Asia/Jakarta")


def count_day(moment: datetime) -> date:
    return moment.astimezone(COUNT_TIME_ZONE).date()


def count_impressions(profile_ids: Iterable[int], *, now: datetime) -> None:
    counters.increment(SEARCH_IMPRESSIONS, profile_ids, day=count_day(now))


def count_profile_view(profile_id: int, *, now: datetime) -> None:
    counters.increment(PROFILE_VIEWS, [profile_id], day=count_day(now))


# A search's counter cell: one non-negative int, in mixed radix (the counters' keys are ints)
#   cell = ((city_id * ID_RADIX + activity_id) * HOURS_OF_WEEK + hour_of_week) * 2 + empty
# city_id and activity_id are 0 for "any" (no filter); hour_of_week is 0 (Monday 00:00–00:59, Jakarta) to
# 167 (Sunday 23:00–23:59); empty is 1 when the search showed nobody. Cities and activities are a few
# reference rows, their ids far below ID_RADIX (a larger one is refused). A cell may pass 2**63: Redis
# keeps hash fields as text, so it is stored and read back exact.
HOURS_OF_WEEK = 7 * 24
ID_RADIX = 2**31


def search_cell(*, hour_of_week: int, city_id: int | None, activity_id: int | None, empty: bool) -> int:
    if (
        not 0 <= hour_of_week < HOURS_OF_WEEK
        or not 0 <= (city_id or 0) < ID_RADIX
        or not 0 <= (activity_id or 0) < ID_RADIX
    ):
        raise ValueError((hour_of_week, city_id, activity_id))
    return (((city_id or 0) * ID_RADIX + (activity_id or 0)) * HOURS_OF_WEEK + hour_of_week) * 2 + int(empty)


def hour_of_week(moment: datetime) -> int:
    local = moment.astimezone(COUNT_TIME_ZONE)
    return local.weekday() * 24 + local.hour


def searched_hour(*, now: datetime, day: date | None, start_time: time | None, viewer_time_zone: str) -> int:
    """The hour of the week (Jakarta) a search is about: the meeting's, when the search names a date and a
    start time (given in the viewer's time zone); else the hour the search was made."""
    if day is not None and start_time is not None:
        return hour_of_week(datetime.combine(day, start_time, tzinfo=ZoneInfo(viewer_time_zone)))
    return hour_of_week(now)


def count_search(
    *,
    city_id: int | None,
    activity_id: int | None,
    day: date | None,
    start_time: time | None,
    viewer_time_zone: str,
    empty: bool,
    now: datetime,
) -> None:
    """Counts one search on the day it was made (Jakarta), in one cache round trip; never raises for the
    cache, never writes to the database."""
    try:
        hour = searched_hour(now=now, day=day, start_time=start_time, viewer_time_zone=viewer_time_zone)
        cell = search_cell(hour_of_week=hour, city_id=city_id, activity_id=activity_id, empty=empty)
    except (ValueError, KeyError):  # an id past the encoding, an unknown time zone: not counted, never an error
        logger.warning("search not counted: %s", (city_id, activity_id, day, start_time, viewer_time_zone))
        return
    counters.increment(SEARCHES, [cell], day=count_day(now))
