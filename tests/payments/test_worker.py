"""A real Celery worker (solo pool, in a thread) on Redis runs the payments follow-ups against the real
database: the refund a cancellation enqueues after its commit, and reconciliation of a lost webhook.
See tests/test_celery_worker.py for how the worker is isolated (a private queue, eager mode off)."""

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import BookingStatus
from config.celery import app
from payments import ledger, services
from payments.gateways.simulator import SimulatorGateway
from payments.models import Payment, Refund
from payments.tasks import reconcile_payments_task
from tests.conftest import requires_redis
from tests.payments.helpers import accepted_on_the_real_clock
from tests.worker_outcomes import Outcomes

WAIT_SECONDS = 30

pytestmark = [pytest.mark.celery_worker, requires_redis, pytest.mark.django_db(transaction=True)]


def test_a_cancellation_refund_is_sent_by_the_worker_after_commit(worker_queue, reference_data):
    booking = accepted_on_the_real_clock(days_ahead=3)
    payment = services.payment_checkout(booking_id=booking.pk, actor=booking.customer, finish_url="http://x/")
    notification = SimulatorGateway().act(payment.order_id, "pay_qris")
    services.payment_apply_notification(payload=notification, raw_body="{}")
    with Outcomes("payments.tasks.refund_process_task") as outcomes:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=[worker_queue]):
            booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer)  # commits, then enqueues
            finished = outcomes.done.wait(timeout=WAIT_SECONDS)
    assert finished, "the worker did not run the refund"
    assert outcomes.errors == []
    assert outcomes.results == [Refund.Status.SUCCEEDED]
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.attempts) == (booking.total, Refund.Status.SUCCEEDED, 1)
    assert ledger.balance(ledger.REFUNDS_PAYABLE) == 0 and ledger.balance(ledger.PROVIDER_CLEARING) == 0
    assert Payment.objects.get().status == Payment.Status.REFUNDED


def test_reconciliation_in_the_worker_confirms_a_booking_whose_webhook_was_lost(worker_queue, reference_data):
    booking = accepted_on_the_real_clock(days_ahead=3)
    payment = services.payment_checkout(booking_id=booking.pk, actor=booking.customer, finish_url="http://x/")
    SimulatorGateway().act(payment.order_id, "pay_silently")
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    with Outcomes("payments.tasks.reconcile_payments_task") as outcomes:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=[worker_queue]):
            reconcile_payments_task.delay()
            finished = outcomes.done.wait(timeout=WAIT_SECONDS)
    assert finished, "the worker did not run the reconciliation"
    assert outcomes.errors == []
    assert outcomes.results == [{"applied": 1}]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert ledger.balance(ledger.escrow_account(booking.pk)) == booking.total
