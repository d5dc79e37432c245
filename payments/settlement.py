"""Where a booking's money goes when the booking ends: the handlers bookings calls (bookings/hooks.py,
registered in PaymentsConfig.ready()) inside the transaction of the status change, so the ledger and the
booking never disagree.

Escrow holds what the customer paid (T). Completion releases it: the companion's earnings to their
payable account, the rest (service fee + commission − discount) to platform revenue. A cancellation
or a resolved dispute splits it by the settlement the bookings policy computed, the refund part
going to refunds payable until the refund is sent. A booking that was never paid has nothing in
escrow and posts nothing."""

from payments import ledger
from payments.models import Payment
from payments.services.refunds import payment_refund_unplaced, refund_open
from payments.services.webhooks import OPEN_AT_PROVIDER, attempts_close_after_commit

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "OPEN_AT_PROVIDER",
    "RESOLVED",
    "booking_left_unpaid",
    "booking_settle",
    "payment_refund_unplaced",
    "refund_open",
]

# The kinds bookings passes (the same strings as bookings.hooks.Settled).
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
            refund_open(booking=booking, payment=payment, amount=refund, reason=kind, now=booking.closed_at)


def booking_left_unpaid(*, booking, keep_payment_id: int | None = None) -> None:
    """The booking stopped waiting for money (withdrawn, cancelled or expired unpaid): after commit,
    open checkouts are cancelled at the provider, so an issued virtual account cannot be paid by
    mistake (a payment that still arrives is refunded by the late-payment rule)."""
    attempts_close_after_commit(booking_id=booking.pk, keep_payment_id=keep_payment_id)
