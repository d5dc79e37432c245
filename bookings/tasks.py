from celery import shared_task

from bookings import deadlines


@shared_task
def sweep_deadlines_task() -> int:
    return deadlines.bookings_sweep()


@shared_task
def send_reminders_task() -> dict:
    from bookings.reminders import reminders_send

    return reminders_send()


@shared_task
def recompute_standing_task() -> dict:
    """Daily: reliability first (a level reads the response rate), then levels."""
    from bookings import levels, reliability

    return {"reliability_changed": reliability.recompute(), **levels.recompute()}
