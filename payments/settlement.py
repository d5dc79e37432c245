"""Where a booking's money goes when the booking ends: called by the bookings services inside the
transaction of the status change, so the ledger and the booking never disagree.

Escrow holds what the customer paid (T). Completion releases it: the companion's earnings to their
payable account, the rest (service fee + commission − discount) to platform revenue. A cancellation
or a resolved dispute splits it by the settlement the bookings policy computed, the refund part
going to refunds payable until the refund is sent. A booking that was never paid has nothing in
escrow and posts nothing. This module must not import bookings.services (bookings imports it)."""

from django.db import transaction

from payments import ledger
from payments.gateways import get_gateway
from payments.models import Payment, Refund

COMPLETED = "completed"
CANCELLED = "cancelled"
RESOLVED = "resolved"


def _confirming_payment(booking) -> Payment | None:
    return (
        Payment.objects.filter(booking=booking, status=Payment.Status.PAID, needs_refund=False)
        .order_by("paid_at", "pk")
        .first()
    )


def booking_settle(*, booking, kind: str) -> None:
    """Precondition: inside the transaction that moved the booking to `kind`."""
    escrow = ledger.escrow_account(booking.pk)
    held = ledger.balance(escrow)
    if held <= 0:
        return
    if kind == COMPLETED:
        refund, earnings = 0, booking.companion_earnings
    else:
        refund, earnings = booking.refund_amount or 0, booking.settled_companion_earnings or 0
    refund = min(refund, held)
    earnings = min(earnings, held - refund)
    ledger.post(
        reference=f"booking:{booking.pk}:{kind}",
        kind=f"booking_{kind}",
        lines=[
            ledger.Line(escrow, held),
            ledger.Line(ledger.REFUNDS_PAYABLE, -refund),
            ledger.Line(ledger.companion_payable_account(booking.companion_id), -earnings),
            ledger.Line(ledger.PLATFORM_REVENUE, -(held - refund - earnings)),
        ],
        memo=f"booking {booking.reference}",
    )
    if refund:
        payment = _confirming_payment(booking)
        if payment is not None:
            refund_open(booking=booking, payment=payment, amount=refund, reason=kind)


def payment_refund_unplaced(*, payment: Payment) -> Refund:
    """Money that arrived for a booking that cannot take it (expired and the slot is gone, already
    paid by another attempt, cancelled): all of it goes back."""
    payment.needs_refund = True
    ledger.transfer(
        reference=f"payment:{payment.order_id}:unplaced",
        kind="payment_unplaced",
        debit=ledger.escrow_account(payment.booking_id),
        credit=ledger.REFUNDS_PAYABLE,
        amount=payment.amount,
        memo=f"booking {payment.booking.reference}: paid but not placed",
    )
    return refund_open(booking=payment.booking, payment=payment, amount=payment.amount, reason="unplaced")


def refund_open(*, booking, payment: Payment, amount: int, reason: str) -> Refund:
    """Records the refund (once per payment and reason) and, after commit, sends it through the
    gateway; methods the gateway cannot refund wait for the customer's bank details instead."""
    by_api = get_gateway().can_refund(payment.payment_type)
    refund, created = Refund.objects.get_or_create(
        refund_key=f"{payment.order_id}-{reason}"[:50],
        defaults={
            "booking": booking,
            "payment": payment,
            "amount": amount,
            "reason": reason,
            "method": Refund.Method.GATEWAY if by_api else Refund.Method.MANUAL,
            "status": Refund.Status.PENDING if by_api else Refund.Status.NEEDS_DETAILS,
        },
    )
    if created and by_api:
        refund_id = refund.pk

        def enqueue():
            from payments.tasks import refund_process_task

            refund_process_task.delay(refund_id)

        transaction.on_commit(enqueue)
    return refund


def booking_left_unpaid(*, booking, keep_payment_id: int | None = None) -> None:
    """The booking stopped waiting for money (withdrawn, cancelled or expired unpaid): after commit,
    open checkouts are cancelled at the provider, so an issued virtual account cannot be paid by
    mistake (a payment that still arrives is refunded by the late-payment rule)."""
    booking_id = booking.pk

    def enqueue():
        from payments.tasks import close_open_attempts_task

        close_open_attempts_task.delay(booking_id, keep_payment_id)

    if Payment.objects.filter(booking_id=booking_id, status__in=OPEN_AT_PROVIDER).exclude(pk=keep_payment_id).exists():
        transaction.on_commit(enqueue)


OPEN_AT_PROVIDER = (Payment.Status.CREATED, Payment.Status.PENDING)
