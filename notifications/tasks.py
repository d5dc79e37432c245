import random

from celery import shared_task

from notifications import services
from notifications.channels import ChannelError


@shared_task(bind=True, acks_late=True, max_retries=services.MAX_ATTEMPTS)
def send_delivery_task(self, delivery_id: int) -> str:
    """Acks late: a worker that dies mid-send leaves the message in Redis for another worker, and the
    row's "sending" state plus the provider check make sure it is not sent twice. Transient errors
    retry with exponential backoff and jitter; the row records each attempt."""
    try:
        return services.delivery_send(delivery_id=delivery_id).status
    except ChannelError as error:
        if self.request.is_eager:
            return "pending"  # in-process (make run): the beat sweep sends it again later
        delay = services.retry_delay(self.request.retries).total_seconds()
        if error.ambiguous:  # ask the provider only once the attempt counts as interrupted
            delay = max(delay, services.SENDING_STALE_AFTER.total_seconds())
        countdown = delay + random.randint(0, 15)  # noqa: S311 (jitter)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task
def sweep_deliveries_task() -> int:
    return services.deliveries_sweep()
