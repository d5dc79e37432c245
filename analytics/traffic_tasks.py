"""The searches' flush (issue 18): every 5 minutes (beat), the counts the search page keeps in the cache move
into analytics.SearchStat. A module of its own (not analytics/tasks.py) so the beat entry names it alone."""

from celery import shared_task
from django.utils import timezone
from redis.exceptions import RedisError

from analytics.traffic import flush_searches
from companions.view_counts import count_day


@shared_task(ignore_result=True, autoretry_for=(RedisError,), max_retries=3, retry_backoff=True, retry_jitter=True)
def flush_searches_task() -> int:
    """Returns how many searches moved (core/counters.py: each batch once; a batch a failed run left behind,
    the database refusing it, is taken by the next run)."""
    return flush_searches(today=count_day(timezone.now()))
