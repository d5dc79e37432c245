"""Reconciliation, the lost-webhook safety net: ask the provider about attempts still open and apply its
answer through the same path as the webhook; re-send refunds stuck pending."""

import json
import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from bookings.errors import BookingBusy
from core import after_commit
from payments.errors import PaymentBusy
from payments.gateways import GatewayError, TransactionNotFound, get_gateway
from payments.models import Payment, PaymentNotification, Refund
from payments.services.refunds import refund_process_task
from payments.services.webhooks import payment_apply_notification

logger = logging.getLogger(__name__)

# Reconciliation asks about attempts still open after this long (the webhook usually came already)...
RECONCILE_AFTER = timedelta(minutes=5)
# ...and gives up asking this long after their checkout closed (Midtrans keeps no later surprises).
RECONCILE_UNTIL = timedelta(days=2)


def payment_check(*, payment_id: int, now: datetime | None = None) -> str:
    """Asks the provider about one attempt and applies the answer; returns what happened."""
    now = now or timezone.now()
    payment = Payment.objects.get(pk=payment_id)
    Payment.objects.filter(pk=payment_id).update(last_checked_at=now)
    try:
        answer = get_gateway().status(payment.order_id)
    except TransactionNotFound:
        # No method chosen yet. Once the checkout has closed, nothing can be paid on it any more.
        if payment.expires_at and payment.expires_at <= now and payment.status == Payment.Status.CREATED:
            Payment.objects.filter(pk=payment_id, status=Payment.Status.CREATED).update(status=Payment.Status.FAILED)
            return "abandoned"
        return "not_found"
    except GatewayError as error:
        logger.warning("status check for %s failed: %s", payment.order_id, error)
        return "error"
    try:
        notification = payment_apply_notification(
            payload=answer, raw_body=json.dumps(answer), now=now, source=PaymentNotification.Source.STATUS_API
        )
    except (BookingBusy, PaymentBusy, OperationalError):
        return "busy"  # the next run asks again
    return notification.verdict


def payments_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """The lost-webhook safety net (Celery beat): asks about every attempt still open a few minutes
    after it began (until a while after its checkout closed), and re-sends refunds stuck pending."""
    now = now or timezone.now()
    open_attempts = Payment.objects.filter(
        status__in=(Payment.Status.CREATED, Payment.Status.PENDING, Payment.Status.CHALLENGE),
        created_at__lte=now - RECONCILE_AFTER,
        created_at__gte=now - RECONCILE_UNTIL - timedelta(days=1),
    ).exclude(expires_at__lt=now - RECONCILE_UNTIL)
    counts: dict[str, int] = {}
    for payment_id in open_attempts.values_list("pk", flat=True).iterator():
        # Each answer applied at its own time: calls take seconds, and deadlines are compared with it.
        verdict = payment_check(payment_id=payment_id, now=max(now, timezone.now()))
        counts[verdict] = counts.get(verdict, 0) + 1
    stuck = Refund.objects.filter(
        status=Refund.Status.PENDING, method=Refund.Method.GATEWAY, created_at__lte=now - RECONCILE_AFTER
    )
    for refund_id in stuck.values_list("pk", flat=True):
        after_commit.enqueue(refund_process_task, refund_id)
        counts["refund_retried"] = counts.get("refund_retried", 0) + 1
    return counts


@shared_task(name="payments.tasks.reconcile_payments_task")
def reconcile_payments_task() -> dict:
    return payments_reconcile()


@shared_task(name="payments.tasks.check_payment_task")
def check_payment_task(payment_id: int) -> str:
    return payment_check(payment_id=payment_id)
