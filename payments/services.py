"""Payments: attempts, and applying what Midtrans says about them (webhook or status API).

`payment_apply_notification` is the one way a provider status reaches our data. It records every
notification with its verdict, and applies a status only when it is a legal next move (duplicates and
out-of-order notifications change nothing), under a row lock, in one transaction with the booking
change and the ledger journal.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from bookings import services as booking_services
from bookings.errors import TransitionNotAllowed
from bookings.models import Booking
from payments import ledger
from payments.midtrans_rules import PaymentOutcome, is_legal_move, outcome, parse_amount
from payments.models import Payment, PaymentNotification

Verdict = PaymentNotification.Verdict

STATUS_FOR_OUTCOME = {
    PaymentOutcome.PENDING: Payment.Status.PENDING,
    PaymentOutcome.PAID: Payment.Status.PAID,
    PaymentOutcome.CHALLENGE: Payment.Status.CHALLENGE,
    PaymentOutcome.FAILED: Payment.Status.FAILED,
    PaymentOutcome.REFUNDED: Payment.Status.REFUNDED,
    PaymentOutcome.PARTIALLY_REFUNDED: Payment.Status.PARTIALLY_REFUNDED,
    PaymentOutcome.CHARGEBACK: Payment.Status.CHARGEBACK,
}


def payment_create(*, booking: Booking) -> Payment:
    """A new attempt for the booking's total, with an order_id Midtrans accepts (≤ 50 characters of
    letters, digits and dashes) that is never reused."""
    with transaction.atomic():
        attempt = Payment.objects.select_for_update().filter(booking=booking).count() + 1
        return Payment.objects.create(booking=booking, order_id=f"{booking.reference}-{attempt}", amount=booking.total)


def _record(payload: dict, raw_body: str, verdict: str, *, payment: Payment | None = None, detail: str = ""):
    return PaymentNotification.objects.create(
        payment=payment,
        order_id=str(payload.get("order_id") or "")[:64],
        transaction_status=str(payload.get("transaction_status") or "")[:32],
        raw_body=raw_body,
        verdict=verdict,
        detail=detail[:200],
    )


def payment_record_forged(*, payload: dict, raw_body: str) -> PaymentNotification:
    """A notification whose signature did not verify: kept as evidence, never applied."""
    return _record(payload, raw_body, Verdict.FORGED)


def payment_apply_notification(*, payload: dict, raw_body: str, now: datetime | None = None) -> PaymentNotification:
    """Precondition: the caller verified the signature (webhook) or asked Midtrans itself (status API)."""
    now = now or timezone.now()
    status = payload.get("transaction_status")
    try:
        amount = parse_amount(payload.get("gross_amount"))
    except ValueError:
        return _record(payload, raw_body, Verdict.MALFORMED, detail="gross_amount")
    if not isinstance(status, str) or not isinstance(payload.get("order_id"), str):
        return _record(payload, raw_body, Verdict.MALFORMED, detail="order_id or transaction_status")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(order_id=payload["order_id"]).first()
        if payment is None:
            return _record(payload, raw_body, Verdict.UNKNOWN_ORDER)
        if amount != payment.amount:
            return _record(payload, raw_body, Verdict.AMOUNT_MISMATCH, payment=payment, detail=f"got {amount}")
        meaning = outcome(status, payload.get("fraud_status"))
        if meaning is None:
            return _record(payload, raw_body, Verdict.IGNORED, payment=payment)
        # A card payment held for review ("capture" + challenge) may later be accepted or denied
        # under the same transaction status: that is a new decision, not a duplicate.
        reviewed = (
            status == "capture" and payment.status == Payment.Status.CHALLENGE and meaning != PaymentOutcome.CHALLENGE
        )
        if status == payment.provider_status and not reviewed:
            return _record(payload, raw_body, Verdict.DUPLICATE, payment=payment)
        if not (reviewed or is_legal_move(payment.provider_status, status)):
            return _record(payload, raw_body, Verdict.STALE, payment=payment, detail=f"after {payment.provider_status}")
        _apply(payment, status=status, meaning=meaning, payload=payload, now=now)
        return _record(payload, raw_body, Verdict.APPLIED, payment=payment)


def _apply(payment: Payment, *, status: str, meaning: str, payload: dict, now: datetime) -> None:
    payment.provider_status = status
    payment.status = STATUS_FOR_OUTCOME[meaning]
    payment.provider_transaction_id = str(payload.get("transaction_id") or payment.provider_transaction_id)[:64]
    payment.payment_type = str(payload.get("payment_type") or payment.payment_type)[:32]
    if meaning == PaymentOutcome.PAID:
        payment.paid_at = now
        ledger.post(
            reference=f"payment:{payment.order_id}:settled",
            kind="payment_settled",
            lines=[
                ledger.Line(ledger.PROVIDER_CLEARING, payment.amount),
                ledger.Line(ledger.escrow_account(payment.booking_id), -payment.amount),
            ],
            memo=f"booking {payment.booking.reference}",
        )
        try:
            booking_services.booking_mark_paid(booking_id=payment.booking_id, now=now)
        except TransitionNotAllowed:
            # Paid after the booking expired or ended another way: the money is recorded (above) and
            # flagged; the payments flow re-holds the slot if it is free, or refunds it.
            payment.needs_refund = True
    payment.save()
