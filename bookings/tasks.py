from celery import shared_task

from bookings import services


@shared_task
def sweep_deadlines_task() -> int:
    return services.bookings_sweep()
