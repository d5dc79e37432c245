"""How often companions are seen: search impressions (each companion on a results page) and profile views,
counted per day in the cache (core.counters: one round trip, no database write, nothing lost to a page
while Redis is down but the counts) and flushed to the database by products (its DailyStat, every 5 min)."""

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core import counters

SEARCH_IMPRESSIONS = "companions:search-impressions"
PROFILE_VIEWS = "companions:profile-views"
# The statistics' days are Jakarta's (WIB), like the platform's other daily figures.
COUNT_TIME_ZONE = ZoneInfo("Asia/Jakarta")


def count_day(moment: datetime) -> date:
    return moment.astimezone(COUNT_TIME_ZONE).date()


def count_impressions(profile_ids: Iterable[int], *, now: datetime) -> None:
    counters.increment(SEARCH_IMPRESSIONS, profile_ids, day=count_day(now))


def count_profile_view(profile_id: int, *, now: datetime) -> None:
    counters.increment(PROFILE_VIEWS, [profile_id], day=count_day(now))
