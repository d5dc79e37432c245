from datetime import timedelta

from celery import shared_task

from analytics.rollups import rollup_day, yesterday


@shared_task
def nightly_rollup_task() -> int:
    """Nightly: yesterday's rollups, and the day before again (events of its last hours arrive late)."""
    day = yesterday()
    return rollup_day(day) + rollup_day(day - timedelta(days=1))
