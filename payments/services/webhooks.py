"""What the provider says, applied: a notification (the webhook, the status API, a cancel's answer).

`payment_apply_notification` is the one way a provider status reaches our data. It records every
notification with its verdict, and applies a status only when it is a legal next move (duplicates and
out-of-order notifications change nothing), under the payment's row lock, in one transaction with the
booking change and the ledger journal. Calls to the provider never happen inside a transaction that
holds a lock: a slow provider must not stall bookings.

Closing a booking's other open checkouts lives here too: it is queued by applying a payment and its
answers are applied in turn, so the task and the function it runs stay in this one module."""

import json
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from bookings import locks as booking_locks
from bookings import services as booking_services
from bookings.errors import BookingBusy, BookingError, TransitionNotAllowed
from core import after_commit
from notifications.services import notification_record
from payments import ledger
from payments.gateways import GatewayError, TransactionNotFound, get_gateway
from payments.locks import lock_first
from payments.midtrans_rules import PaymentOutcome, is_legal_move, outcome, parse_amount
from payments.models import Payment, PaymentNotification
from payments.services.purchases import purchase_settled
from payments.services.refunds import payment_refund_unplaced
from promotions.referrals import referral_booking_refunded

logger = logging.getLogger(__name__)

Verdict = PaymentNotification.Verdict
WIB = ZoneInfo("Asia/Jakarta")

STATUS_FOR_OUTCOME = {
    PaymentOutcome.PENDING: Payment.Status.PENDING,
    PaymentOutcome.PAID: Payment.Status.PAID,
    PaymentOutcome.CHALLENGE: Payment.Status.CHALLENGE,
    PaymentOutcome.FAILED: Payment.Status.FAILED,
    PaymentOutcome.REFUNDED: Payment.Status.REFUNDED,
    PaymentOutcome.PARTIALLY_REFUNDED: Payment.Status.PARTIALLY_REFUNDED,
    PaymentOutcome.CHARGEBACK: Payment.Status.CHARGEBACK,
}
# Attempts the provider may still take money on: closed when the booking stops waiting for money.
OPEN_AT_PROVIDER = (Payment.Status.CREATED, Payment.Status.PENDING)


def _record(payload: dict, raw_body: str, verdict: str, *, payment=None, detail: str = "", source: str):
    return PaymentNotification.objects.create(
        payment=payment,
        order_id=str(payload.get("order_id") or "")[:64],
        transaction_status=str(payload.get("transaction_status") or "")[:32],
        raw_body=raw_body,
        verdict=verdict,
        detail=detail[:200],
        source=source,
    )


def payment_record_forged(*, payload: dict, raw_body: str) -> PaymentNotification:
    """A notification whose signature did not verify: kept as evidence, never applied."""
    return _record(payload, raw_body, Verdict.FORGED, source=PaymentNotification.Source.WEBHOOK)


def payment_apply_notification(
    *,
    payload: dict,
    raw_body: str,
    now: datetime | None = None,
    source: str = PaymentNotification.Source.WEBHOOK,
) -> PaymentNotification:
    """Precondition: the caller verified the signature (webhook) or asked Midtrans itself (status API).
    Raises PaymentBusy or BookingBusy when a row stays locked past the lock timeout (nothing written)."""
    now = now or timezone.now()
    status = payload.get("transaction_status")
    try:
        amount = parse_amount(payload.get("gross_amount"))
    except ValueError:
        return _record(payload, raw_body, Verdict.MALFORMED, detail="gross_amount", source=source)
    if not isinstance(status, str) or not isinstance(payload.get("order_id"), str):
        return _record(payload, raw_body, Verdict.MALFORMED, detail="order_id or transaction_status", source=source)
    with transaction.atomic():
        payment = lock_first(Payment.objects.filter(order_id=payload["order_id"]))
        if payment is None:
            return _record(payload, raw_body, Verdict.UNKNOWN_ORDER, source=source)
        if amount != payment.amount:
            return _record(
                payload, raw_body, Verdict.AMOUNT_MISMATCH, payment=payment, detail=f"got {amount}", source=source
            )
        meaning = outcome(status, payload.get("fraud_status"))
        if meaning is None:
            return _record(payload, raw_body, Verdict.IGNORED, payment=payment, source=source)
        # A card payment held for review ("capture" + challenge) may later be accepted or denied
        # under the same transaction status: that is a new decision, not a duplicate.
        reviewed = payment.status == Payment.Status.CHALLENGE and (
            (status == "capture" and meaning != PaymentOutcome.CHALLENGE) or status in ("deny", "cancel")
        )
        if status == payment.provider_status and not reviewed:
            return _record(payload, raw_body, Verdict.DUPLICATE, payment=payment, source=source)
        if not (reviewed or is_legal_move(payment.provider_status, status)):
            return _record(
                payload,
                raw_body,
                Verdict.STALE,
                payment=payment,
                detail=f"after {payment.provider_status}",
                source=source,
            )
        if payment.status == Payment.Status.PAID and meaning == PaymentOutcome.FAILED:
            # A captured card payment voided afterwards (capture → cancel), not by us: the booking was
            # confirmed on that money, so a person decides (recorded, never applied automatically).
            return _record(
                payload,
                raw_body,
                Verdict.UNEXPECTED,
                payment=payment,
                detail=f"{status} after the payment was counted",
                source=source,
            )
        if meaning in (PaymentOutcome.REFUNDED, PaymentOutcome.PARTIALLY_REFUNDED, PaymentOutcome.CHARGEBACK):
            # Our own refunds move the payment's status when they succeed (so their notification is a
            # duplicate). A refund made elsewhere (the Midtrans dashboard) or a chargeback is money
            # leaving without a decision of ours: recorded for a person, never applied to the booking.
            # A referral reward that booking earned is taken back (promotions/referrals.py).
            if meaning in (PaymentOutcome.REFUNDED, PaymentOutcome.CHARGEBACK) and payment.booking_id:
                referral_booking_refunded(booking=payment.booking, now=now)
            return _record(
                payload,
                raw_body,
                Verdict.UNEXPECTED,
                payment=payment,
                detail=f"{status} not initiated here",
                source=source,
            )
        if payment.status == Payment.Status.PAID and meaning == PaymentOutcome.PAID:
            # capture(accept) then settlement: the money was counted at the capture.
            payment.provider_status = status
            payment.save(update_fields=["provider_status"])
            return _record(payload, raw_body, Verdict.APPLIED, payment=payment, detail="already paid", source=source)
        _apply(payment, status=status, meaning=meaning, payload=payload, now=now)
        return _record(payload, raw_body, Verdict.APPLIED, payment=payment, source=source)


def _apply(payment: Payment, *, status: str, meaning: str, payload: dict, now: datetime) -> None:
    payment.provider_status = status
    payment.status = STATUS_FOR_OUTCOME[meaning]
    payment.provider_transaction_id = str(payload.get("transaction_id") or payment.provider_transaction_id)[:64]
    payment.payment_type = str(payload.get("payment_type") or payment.payment_type)[:32]
    if meaning == PaymentOutcome.PAID and payment.purchase_id:
        payment.paid_at = now
        purchase_settled(payment, now=now)  # a paid product: deferred revenue, its period
    elif meaning == PaymentOutcome.PAID:
        payment.paid_at = now
        ledger.transfer(
            reference=f"payment:{payment.order_id}:settled",
            kind="payment_settled",
            debit=ledger.PROVIDER_CLEARING,
            credit=ledger.escrow_account(payment.booking_id),
            amount=payment.amount,
            memo=f"booking {payment.booking.reference}",
        )
        if _place(payment, now=now):
            payment.invoice_number = f"INV/{now.astimezone(WIB):%Y%m%d}/{payment.booking.reference}"
            # Other checkouts of this booking (an issued VA) must not be paid too: closed after commit.
            attempts_close_after_commit(booking_id=payment.booking_id, keep_payment_id=payment.pk)
        else:
            payment_refund_unplaced(payment=payment)
            notification_record(
                recipient=payment.booking.customer,
                event="payment_refunded_unplaced",
                context={"reference": payment.booking.reference, "amount": payment.amount},
            )
    elif meaning == PaymentOutcome.FAILED and payment.booking_id:
        notification_record(
            recipient=payment.booking.customer,
            event="payment_failed",
            context={"reference": payment.booking.reference},
        )
    payment.save()


def _place(payment: Payment, *, now: datetime) -> bool:
    """Puts settled money to work: confirms the booking it was for, or re-holds an expired booking's
    slot when it is still free. False when the booking cannot take it (refund it)."""
    booking_id = payment.booking_id
    # Customer, companion, then the booking: the order every booking path locks in (no deadlock with
    # a request for the same people), and two attempts settling at once are serialised here.
    booking_locks.lock_booking_parties(booking_id=booking_id)
    booking_locks.lock_booking(booking_id=booking_id)
    already_paid = (
        Payment.objects.filter(booking_id=booking_id, status=Payment.Status.PAID, needs_refund=False)
        .exclude(pk=payment.pk)
        .exists()
    )
    if already_paid:
        return False
    try:
        booking_services.booking_mark_paid(booking_id=booking_id, now=now)
        return True
    except TransitionNotAllowed:
        pass
    # Paid after the deadline: the booking expires (if the sweep has not done it yet), then gets its
    # slot back if nobody took it in between.
    booking_services.booking_apply_deadline(booking_id=booking_id, now=now)
    try:
        with transaction.atomic():  # a savepoint: a failed re-hold leaves nothing behind
            return booking_services.booking_rehold(booking_id=booking_id, now=now)
    except BookingBusy:
        raise  # the calendar is locked right now: try again later (503 to Midtrans), never refund for it
    except BookingError:
        return False


# --- A booking's other open checkouts ----------------------------------------------------------------------


def attempts_close_after_commit(*, booking_id: int, keep_payment_id: int | None = None) -> None:
    """After commit, cancels the booking's checkouts still open at the provider (all but
    `keep_payment_id`), so an issued virtual account cannot be paid by mistake. Nothing is queued when
    none is open."""
    if Payment.objects.filter(booking_id=booking_id, status__in=OPEN_AT_PROVIDER).exclude(pk=keep_payment_id).exists():
        after_commit.enqueue(close_open_attempts_task, booking_id, keep_payment_id)


def payments_close_open_attempts(
    *, booking_id: int, keep_payment_id: int | None = None, now: datetime | None = None
) -> int:
    """Cancels the booking's checkouts still open at the provider; returns how many were closed. A
    transient failure leaves the attempt as it is (reconciliation keeps asking about it)."""
    now = now or timezone.now()
    closed = 0
    gateway = get_gateway()
    attempts = Payment.objects.filter(booking_id=booking_id, status__in=OPEN_AT_PROVIDER)
    for payment in attempts.exclude(pk=keep_payment_id):
        try:
            answer = gateway.cancel(payment.order_id)
        except TransactionNotFound:
            # No method chosen yet: nothing to cancel there; the checkout closes at its expiry and any
            # payment that still arrives is refunded.
            Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATED).update(status=Payment.Status.FAILED)
            closed += 1
            continue
        except GatewayError as error:
            logger.warning("could not cancel %s at the provider: %s", payment.order_id, error)
            continue
        payment_apply_notification(
            payload=answer, raw_body=json.dumps(answer), now=now, source=PaymentNotification.Source.STATUS_API
        )
        closed += 1
    return closed


@shared_task(name="payments.tasks.close_open_attempts_task")
def close_open_attempts_task(booking_id: int, keep_payment_id: int | None = None) -> int:
    return payments_close_open_attempts(booking_id=booking_id, keep_payment_id=keep_payment_id)
