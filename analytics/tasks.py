from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from redis.exceptions import RedisError

from analytics.nightly import rollup_range
from analytics.rollups import yesterday
from analytics.traffic import flush_searches
from companions.view_counts import count_day


@shared_task
def nightly_rollup_task() -> int:
    """Nightly: yesterday's rollups, and the day before again (events of its last hours arrive late)."""
    day = yesterday()
    return rollup_range(day - timedelta(days=1), day)


@shared_task(ignore_result=True, autoretry_for=(RedisError,), max_retries=3, retry_backoff=True, retry_jitter=True)
def flush_searches_task() -> int:
    """Every 5 minutes (beat): the searches the search page counted in the cache move into SearchStat. Returns
    how many moved (core/counters.py: each batch once; a batch a failed run left behind is taken by the next)."""
    return flush_searches(today=count_day(timezone.now()))
