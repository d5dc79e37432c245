from celery import shared_task
from redis.exceptions import RedisError

from products import promoted


@shared_task(ignore_result=True, autoretry_for=(RedisError,), max_retries=3, retry_backoff=True, retry_jitter=True)
def flush_view_counts_task() -> int:
    """Search impressions and profile views counted in the cache move into DailyStat (core/counters.py:
    each batch once; a batch a failed run left behind is taken by the next)."""
    return promoted.flush_view_counts()
