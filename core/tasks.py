from celery import shared_task

from core import cache as core_cache


@shared_task(ignore_result=True)
def apply_deferred_cache_deletes_task() -> int:
    """Page-cache versions whose bump failed while Redis was down are bumped once it is back."""
    try:
        return core_cache.apply_deferred_deletes()
    except core_cache.CacheUnavailable:
        return 0  # still down: the rows stay for the next run
