import random

from celery import shared_task

from payments import services
from payments.gateways import GatewayError

MAX_REFUND_RETRIES = 6


@shared_task
def reconcile_payments_task() -> dict:
    return services.payments_reconcile()


@shared_task(bind=True, max_retries=MAX_REFUND_RETRIES, acks_late=True)
def refund_process_task(self, refund_id: int) -> str:
    """Retries transient gateway errors with exponential backoff and jitter (same refund key each
    time); after the last retry the refund stays pending and the reconciliation sweep sends it again."""
    try:
        return services.refund_process(refund_id=refund_id).status
    except GatewayError as error:
        countdown = min(3600, 30 * 2**self.request.retries) + random.randint(0, 30)  # noqa: S311 (jitter)
        if self.request.retries >= MAX_REFUND_RETRIES:
            return "pending"
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task
def check_payment_task(payment_id: int) -> str:
    return services.payment_check(payment_id=payment_id)


@shared_task
def close_open_attempts_task(booking_id: int, keep_payment_id: int | None = None) -> int:
    return services.payments_close_open_attempts(booking_id=booking_id, keep_payment_id=keep_payment_id)
