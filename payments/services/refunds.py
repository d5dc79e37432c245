"""Refunds: opened when money must go back (a cancellation, a resolved dispute, money that could not be
placed), sent through the gateway after commit by a Celery task, or by bank transfer when the payment
method cannot be refunded by API (the customer gives bank details, staff send the transfer).

The refund row is written before the provider is called; its refund key makes a repeat the same refund
at the provider, so the task may run twice or concurrently."""

from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import after_commit
from notifications.services import notification_record
from payments import ledger
from payments.banks import BANK_NAMES
from payments.errors import PaymentError, PaymentNotAllowed
from payments.gateways import GatewayError, RefundResult, get_gateway
from payments.locks import lock_get
from payments.midtrans_rules import is_legal_move
from payments.models import Payment, Refund
from payments.services.staff import require_staff

# Transient gateway errors: 1 call and up to 6 retries, after about 30 s, 1, 2, 4, 8 and 16 minutes
# (exponential backoff, each wait drawn at random below its bound so retries of many refunds spread
# out). After the last one the refund stays pending and the reconciliation sweep sends it again.
MAX_REFUND_RETRIES = 6
REFUND_RETRY_BACKOFF_SECONDS = 30
REFUND_RETRY_BACKOFF_MAX_SECONDS = 3600


def refund_open(*, booking, payment: Payment, amount: int, reason: str, now=None) -> Refund:
    """Records the refund (once per payment and reason) and, after commit, sends it through the
    gateway; methods the gateway cannot refund wait for the customer's bank details instead. `now` dates
    it (the decision's time; the analytics count a refund on that day)."""
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
            "created_at": now or timezone.now(),
        },
    )
    if created and by_api:
        after_commit.enqueue(refund_process_task, refund.pk)
    return refund


def payment_refund_unplaced(*, payment: Payment) -> Refund:
    """Money that arrived for a booking that cannot take it (expired and the slot is gone, already
    paid by another attempt, cancelled), or for a purchase whose checkout was closed: all of it goes back."""
    payment.needs_refund = True
    held = (
        ledger.escrow_account(payment.booking_id)
        if payment.booking_id
        else ledger.deferred_account(payment.purchase_id)
    )
    ledger.transfer(
        reference=f"payment:{payment.order_id}:unplaced",
        kind="payment_unplaced",
        debit=held,
        credit=ledger.REFUNDS_PAYABLE,
        amount=payment.amount,
        memo=f"{payment.subject_reference}: paid but not placed",
    )
    return refund_open(booking=payment.booking, payment=payment, amount=payment.amount, reason="unplaced")


def refund_process(*, refund_id: int, now: datetime | None = None) -> Refund:
    """Sends a gateway refund. Safe to run twice or concurrently: the refund key makes the provider
    treat a repeat as the same refund, and the result is recorded once. Re-raises transient errors
    (the task retries them with backoff); permanent ones mark the refund failed for admin."""
    now = now or timezone.now()
    with transaction.atomic():
        refund = lock_get(Refund.objects.filter(pk=refund_id).select_related("payment"))
        if refund.status != Refund.Status.PENDING or refund.method != Refund.Method.GATEWAY:
            return refund
        refund.attempts += 1
        refund.save(update_fields=["attempts"])
    try:
        result = _refund_at_gateway(refund)
    except GatewayError as error:
        with transaction.atomic():
            refund = lock_get(Refund.objects.filter(pk=refund_id))
            refund.last_error = str(error)[:300]
            refund.provider_response = error.response
            if not error.transient and refund.status == Refund.Status.PENDING:
                refund.status = Refund.Status.FAILED
            refund.save(update_fields=["last_error", "provider_response", "status"])
        if error.transient:
            raise
        return refund
    with transaction.atomic():
        refund = lock_get(Refund.objects.filter(pk=refund_id).select_related("payment", "booking"))
        if refund.status != Refund.Status.PENDING:
            return refund
        if not result.accepted:
            refund.status = Refund.Status.FAILED
            refund.last_error = str(result.raw.get("status_message") or "refused")[:300]
            refund.provider_response = result.raw
            refund.save(update_fields=["status", "last_error", "provider_response"])
            return refund
        _refund_done(refund, now=now, status=Refund.Status.SUCCEEDED, counter_account=ledger.PROVIDER_CLEARING)
        refund.provider_response = result.raw
        refund.save(update_fields=["provider_response"])
        _payment_refunded(refund.payment)
    return refund


@shared_task(
    name="payments.tasks.refund_process_task",
    acks_late=True,
    autoretry_for=(GatewayError,),  # only transient ones reach here: refund_process records the rest
    max_retries=MAX_REFUND_RETRIES,
    retry_backoff=REFUND_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=REFUND_RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
)
def refund_process_task(refund_id: int) -> str:
    """Sends one refund (same refund key on every retry). Defined beside its service, not in
    payments/tasks.py, so the services that enqueue it import no module that imports them back."""
    return refund_process(refund_id=refund_id).status


def _refund_at_gateway(refund: Refund) -> RefundResult:
    """Settled money is refunded; a card payment still only captured (it settles the next day) is
    voided instead when all of it goes back. Part of a captured payment waits for the settlement
    (a transient error: the reconciliation sweep sends it again)."""
    payment = refund.payment
    if payment.provider_status == "capture":
        if refund.amount < payment.amount:
            raise GatewayError("a partial refund waits until the card payment settles", transient=True)
        answer = get_gateway().cancel(payment.order_id)
        return RefundResult(accepted=str(answer.get("transaction_status")) == "cancel", raw=answer)
    return get_gateway().refund(
        payment.order_id, refund_key=refund.refund_key, amount=refund.amount, reason=refund.reason
    )


def _payment_refunded(payment: Payment) -> None:
    """The payment's own status follows its refunds (Midtrans' later "refund" notification is then a
    duplicate). Only a legal move: a chargeback is never overwritten. Call holding the refund's lock."""
    payment = lock_get(Payment.objects.filter(pk=payment.pk))
    refunded = sum(payment.refunds.filter(status__in=(Refund.Status.SUCCEEDED,)).values_list("amount", flat=True))
    status = "refund" if refunded >= payment.amount else "partial_refund"
    if payment.provider_status == "capture":
        status = "cancel"  # voided before settlement: Midtrans' own notification will say "cancel"
        payment.provider_status, payment.status = status, Payment.Status.REFUNDED
        payment.save(update_fields=["provider_status", "status"])
        return
    if is_legal_move(payment.provider_status, status):
        payment.provider_status = status
        payment.status = Payment.Status.REFUNDED if status == "refund" else Payment.Status.PARTIALLY_REFUNDED
        payment.save(update_fields=["provider_status", "status"])


def _refund_done(refund: Refund, *, now: datetime, status: str, counter_account: str, actor=None) -> None:
    refund.status = status
    refund.completed_at = now
    refund.completed_by = actor
    refund.last_error = ""
    refund.save(update_fields=["status", "completed_at", "completed_by", "last_error"])
    ledger.transfer(
        reference=f"refund:{refund.refund_key}:sent",
        kind="refund_sent",
        debit=ledger.REFUNDS_PAYABLE,
        credit=counter_account,
        amount=refund.amount,
        memo=refund.payment.subject_reference,
    )
    notification_record(
        recipient=refund.payment.payer,
        event="refund_done",
        context={"reference": refund.payment.subject_reference, "amount": refund.amount},
    )


def refund_submit_bank_details(
    *, refund_id: int, actor: User, bank: str, account_number: str, holder_name: str
) -> Refund:
    """The customer tells us where to send a refund the gateway cannot make (virtual account, store)."""
    with transaction.atomic():
        refund = lock_get(Refund.objects.filter(pk=refund_id).select_related("booking"))
        if refund.payment.payer.pk != actor.pk:
            raise PaymentNotAllowed(_("Only the customer can give the bank details for this refund."))
        if refund.status not in (Refund.Status.NEEDS_DETAILS, Refund.Status.MANUAL_QUEUED):
            raise PaymentError(_("This refund no longer needs bank details."))
        if bank not in BANK_NAMES:
            raise PaymentError(_("Choose a bank from the list."), field="bank")
        refund.bank, refund.account_number, refund.holder_name = bank, account_number, holder_name.strip()
        refund.status = Refund.Status.MANUAL_QUEUED
        refund.save(update_fields=["bank", "account_number", "holder_name", "status"])
    return refund


def refund_mark_manual_done(*, refund_id: int, actor: User, reference: str, now: datetime | None = None) -> Refund:
    """Staff sent the bank transfer: the refund is done and the ledger says where the money went."""
    now = now or timezone.now()
    require_staff(actor)
    reference = reference.strip()
    if len(reference) < 4:
        raise PaymentError(_("Enter the bank transfer reference."), field="reference")
    with transaction.atomic():
        refund = lock_get(Refund.objects.filter(pk=refund_id).select_related("booking"))
        if refund.status != Refund.Status.MANUAL_QUEUED:
            raise PaymentError(_("Only a queued bank-transfer refund can be marked as sent."))
        refund.transfer_reference = reference[:64]
        refund.save(update_fields=["transfer_reference"])
        _refund_done(refund, now=now, status=Refund.Status.MANUAL_DONE, counter_account=ledger.BANK, actor=actor)
    return refund


def refund_retry(*, refund_id: int, actor: User) -> Refund:
    """Staff send a failed gateway refund again (same refund key), after fixing the cause."""
    require_staff(actor)
    with transaction.atomic():
        refund = lock_get(Refund.objects.filter(pk=refund_id))
        if refund.status != Refund.Status.FAILED:
            raise PaymentError(_("Only a failed refund can be retried."))
        refund.status = Refund.Status.PENDING
        refund.save(update_fields=["status"])
        after_commit.enqueue(refund_process_task, refund.pk)
    return refund


def refund_switch_to_manual(*, refund_id: int, actor: User) -> Refund:
    """When the gateway refuses for good (e.g. the card is closed): refund by bank transfer instead."""
    require_staff(actor)
    with transaction.atomic():
        refund = lock_get(Refund.objects.filter(pk=refund_id).select_related("booking"))
        if refund.status != Refund.Status.FAILED:
            raise PaymentError(_("Only a failed refund can be switched to a bank transfer."))
        refund.method = Refund.Method.MANUAL
        refund.status = Refund.Status.NEEDS_DETAILS
        refund.save(update_fields=["method", "status"])
        notification_record(
            recipient=refund.payment.payer,
            event="refund_needs_bank_details",
            context={"reference": refund.payment.subject_reference, "amount": refund.amount},
        )
    return refund
