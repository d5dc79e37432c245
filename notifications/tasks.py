import random
from datetime import datetime

from celery import shared_task

from notifications import sending
from notifications.channels import ChannelError


@shared_task(bind=True, acks_late=True, max_retries=sending.MAX_ATTEMPTS)
def send_delivery_task(self, delivery_id: int) -> str:
    """Acks late: a worker that dies mid-send leaves the message in Redis for another worker. For
    WhatsApp the row's "sending" state plus the provider check make sure it is not sent twice; an email
    is sent again (at least once, under the same Message-ID). Transient errors retry with exponential
    backoff and jitter; the row records each attempt.

    Not Celery's autoretry: an ambiguous failure (the request may have reached Twilio) must wait at
    least until the row counts as interrupted, so that the provider is asked before anything is sent
    again (the at-most-once rule), and in-process runs leave retries to the sweep."""
    try:
        return sending.delivery_send(delivery_id=delivery_id).status
    except ChannelError as error:
        if self.request.is_eager:
            return "pending"  # in-process (make run): the beat sweep sends it again later
        delay = sending.retry_delay(self.request.retries).total_seconds()
        if error.ambiguous:  # ask the provider only once the attempt counts as interrupted
            delay = max(delay, sending.SENDING_STALE_AFTER.total_seconds())
        countdown = delay + random.randint(0, 15)  # noqa: S311 (jitter)
        raise self.retry(exc=error, countdown=countdown) from error


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Safety net: sends again what sending.deliveries_due finds (lost tasks, interrupted sends)."""
    due = sending.deliveries_due(now=now)
    for delivery_id in due:
        send_delivery_task.delay(delivery_id)
    return len(due)


@shared_task
def sweep_deliveries_task() -> int:
    return deliveries_sweep()
