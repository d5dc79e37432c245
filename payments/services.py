"""Payments: checkout attempts, applying what Midtrans says (webhook or status API), reconciliation,
refunds, companion bank accounts and payouts.

`payment_apply_notification` is the one way a provider status reaches our data. It records every
notification with its verdict, and applies a status only when it is a legal next move (duplicates and
out-of-order notifications change nothing), under a row lock, in one transaction with the booking
change and the ledger journal. Calls to the provider never happen inside a transaction that holds a
lock: a slow provider must not stall bookings.
"""

import json
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from bookings import services as booking_services
from bookings.errors import BookingBusy, BookingError, TransitionNotAllowed
from bookings.models import Booking, BookingStatus
from companions.models import CompanionProfile
from core.templatetags.ui import rupiah
from notifications.services import notification_record
from payments import ledger, selectors, settlement
from payments.banks import BANK_NAMES
from payments.disbursement import PayoutInstruction, get_disbursement
from payments.errors import PaymentError
from payments.gateways import CheckoutRequest, GatewayError, Item, RefundResult, TransactionNotFound, get_gateway
from payments.midtrans_rules import PaymentOutcome, is_legal_move, outcome, parse_amount
from payments.models import PAYOUT_MINIMUM, BankAccount, Payment, PaymentNotification, Payout, Refund

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
# A checkout that closes within this much of now is not worth opening.
MINIMUM_CHECKOUT_TIME = timedelta(minutes=2)
# A checkout being created (the gateway call takes a few seconds at most) blocks a second one.
CHECKOUT_IN_PROGRESS = timedelta(seconds=30)
# Reconciliation asks about attempts still open after this long (the webhook usually came already)...
RECONCILE_AFTER = timedelta(minutes=5)
# ...and gives up asking this long after their checkout closed (Midtrans keeps no later surprises).
RECONCILE_UNTIL = timedelta(days=2)


# --- Checkout -------------------------------------------------------------------------------------------


def payment_create(*, booking: Booking, expires_at: datetime | None = None) -> Payment:
    """A new attempt for the booking's total, with an order_id Midtrans accepts (≤ 50 characters of
    letters, digits and dashes) that is never reused."""
    with transaction.atomic():
        attempt = Payment.objects.select_for_update().filter(booking=booking).count() + 1
        return Payment.objects.create(
            booking=booking,
            order_id=f"{booking.reference}-{attempt}",
            amount=booking.total,
            expires_at=expires_at or booking.payment_deadline,
        )


def checkout_items(booking: Booking) -> list[Item]:
    """What Midtrans shows the customer; the lines always sum to the booking's total."""
    items = [
        Item(
            id="companion-time",
            name=_("%(name)s, %(hours)d h") % {"name": booking.companion.display_name[:30], "hours": booking.hours},
            price=booking.hourly_rate,
            quantity=booking.hours,
        ),
        Item(id="service-fee", name=_("Service fee"), price=booking.service_fee),
    ]
    if booking.discount:
        items.append(Item(id="discount", name=_("Discount"), price=-booking.discount))
    return items


def payment_checkout(*, booking_id: int, actor: User, finish_url: str, now: datetime | None = None) -> Payment:
    """Where the customer pays for an accepted booking. An attempt still open is reused (so a second
    click never makes a second charge possible); otherwise a new attempt gets a checkout that closes
    at the booking's payment deadline."""
    now = now or timezone.now()
    booking_services.booking_apply_deadline(booking_id=booking_id, now=now)
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",)).select_related("companion", "customer").get(pk=booking_id)
        )
        if booking.customer_id != actor.pk:
            raise PaymentError(_("Only the customer can pay for this booking."))
        if (
            booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
            or booking.payments.filter(status=Payment.Status.PAID).exists()
        ):
            raise PaymentError(_("This booking is already paid."))
        if booking.status != BookingStatus.AWAITING_PAYMENT:
            raise PaymentError(_("This booking can no longer be paid."))
        if booking.payment_deadline - now < MINIMUM_CHECKOUT_TIME:
            raise PaymentError(_("The time to pay for this booking has passed."))
        if booking.payments.filter(
            status=Payment.Status.CREATED, redirect_url="", created_at__gt=now - CHECKOUT_IN_PROGRESS
        ).exists():
            # Another click is opening the payment page right now: one checkout, never two.
            raise PaymentError(_("Your payment page is being prepared. Please try again in a moment."))
        reusable = (
            booking.payments.filter(
                status__in=(Payment.Status.CREATED, Payment.Status.PENDING), expires_at__gt=now + MINIMUM_CHECKOUT_TIME
            )
            .exclude(redirect_url="")
            .first()
        )
        if reusable is not None:
            return reusable
        payment = payment_create(booking=booking, expires_at=booking.payment_deadline)
        request = CheckoutRequest(
            order_id=payment.order_id,
            amount=payment.amount,
            items=checkout_items(booking),
            customer_name=booking.customer.get_short_name() or booking.customer.email,
            customer_email=booking.customer.email,
            customer_phone=str(booking.customer.phone or ""),
            expires_at=payment.expires_at,
            finish_url=finish_url,
        )
    try:
        checkout = get_gateway().create_checkout(request)
    except GatewayError as error:
        Payment.objects.filter(pk=payment.pk).update(
            status=Payment.Status.FAILED, checkout_response={"error": str(error), **error.response}
        )
        logger.warning("checkout for %s failed: %s", payment.order_id, error)
        raise PaymentError(_("The payment page could not be opened. Please try again in a moment.")) from error
    Payment.objects.filter(pk=payment.pk).update(redirect_url=checkout.redirect_url, checkout_response=checkout.raw)
    payment.refresh_from_db()
    return payment


def simulator_choose(*, order_id: str, action: str, webhook_url: str) -> bool | None:
    """A button on the dev simulator's checkout page (PAYMENT_GATEWAY=simulator): the simulator changes
    its transaction and notifies our webhook over HTTP, like Midtrans. Returns whether the notification
    was taken (None when the action loses it on purpose, to show reconciliation at work)."""
    from payments.gateways.simulator import ACTIONS, SimulatorGateway

    if settings.PAYMENT_GATEWAY != "simulator" or action not in ACTIONS:
        raise PaymentError(_("Choose one of the buttons."))
    gateway = SimulatorGateway()
    try:
        notification = gateway.act(order_id, action)
    except GatewayError as error:
        raise PaymentError(str(error)) from error
    if action == "pay_silently":
        return None
    return gateway.deliver(notification, webhook_url=webhook_url)


# --- What the provider says -------------------------------------------------------------------------------


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
    """Precondition: the caller verified the signature (webhook) or asked Midtrans itself (status API)."""
    now = now or timezone.now()
    status = payload.get("transaction_status")
    try:
        amount = parse_amount(payload.get("gross_amount"))
    except ValueError:
        return _record(payload, raw_body, Verdict.MALFORMED, detail="gross_amount", source=source)
    if not isinstance(status, str) or not isinstance(payload.get("order_id"), str):
        return _record(payload, raw_body, Verdict.MALFORMED, detail="order_id or transaction_status", source=source)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(order_id=payload["order_id"]).first()
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
    if meaning == PaymentOutcome.PAID:
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
            settlement.booking_left_unpaid(booking=payment.booking, keep_payment_id=payment.pk)
        else:
            settlement.payment_refund_unplaced(payment=payment)
            notification_record(
                recipient=payment.booking.customer,
                event="payment_refunded_unplaced",
                context={"reference": payment.booking.reference, "amount": payment.amount},
            )
    elif meaning == PaymentOutcome.FAILED:
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
    booking_services.booking_lock_parties(booking_id=booking_id)
    Booking.objects.select_for_update(of=("self",)).filter(pk=booking_id).first()
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


# --- Reconciliation -----------------------------------------------------------------------------------


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
    except (BookingBusy, OperationalError):
        return "busy"  # the next run asks again
    return notification.verdict


def payments_close_open_attempts(
    *, booking_id: int, keep_payment_id: int | None = None, now: datetime | None = None
) -> int:
    """Cancels the booking's checkouts still open at the provider; returns how many were closed. A
    transient failure leaves the attempt as it is (reconciliation keeps asking about it)."""
    now = now or timezone.now()
    closed = 0
    gateway = get_gateway()
    attempts = Payment.objects.filter(booking_id=booking_id, status__in=settlement.OPEN_AT_PROVIDER)
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
        _enqueue_refund(refund_id)
        counts["refund_retried"] = counts.get("refund_retried", 0) + 1
    return counts


# --- Refunds ---------------------------------------------------------------------------------------------


def _enqueue_refund(refund_id: int) -> None:
    from payments.tasks import refund_process_task

    transaction.on_commit(lambda: refund_process_task.delay(refund_id))


def refund_process(*, refund_id: int, now: datetime | None = None) -> Refund:
    """Sends a gateway refund. Safe to run twice or concurrently: the refund key makes the provider
    treat a repeat as the same refund, and the result is recorded once. Re-raises transient errors
    (the task retries them with backoff); permanent ones mark the refund failed for admin."""
    now = now or timezone.now()
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        if refund.status != Refund.Status.PENDING or refund.method != Refund.Method.GATEWAY:
            return refund
        refund.attempts += 1
        refund.save(update_fields=["attempts"])
    try:
        result = _refund_at_gateway(refund)
    except GatewayError as error:
        with transaction.atomic():
            refund = Refund.objects.select_for_update().get(pk=refund_id)
            refund.last_error = str(error)[:300]
            refund.provider_response = error.response
            if not error.transient and refund.status == Refund.Status.PENDING:
                refund.status = Refund.Status.FAILED
            refund.save(update_fields=["last_error", "provider_response", "status"])
        if error.transient:
            raise
        return refund
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment", "booking").get(pk=refund_id)
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
    duplicate). Only a legal move: a chargeback is never overwritten."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
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
        memo=f"booking {refund.booking.reference}",
    )
    notification_record(
        recipient=refund.booking.customer,
        event="refund_done",
        context={"reference": refund.booking.reference, "amount": refund.amount},
    )


def refund_submit_bank_details(
    *, refund_id: int, actor: User, bank: str, account_number: str, holder_name: str
) -> Refund:
    """The customer tells us where to send a refund the gateway cannot make (virtual account, store)."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("booking").get(pk=refund_id)
        if refund.booking.customer_id != actor.pk:
            raise PaymentError(_("Only the customer can give the bank details for this refund."))
        if refund.status not in (Refund.Status.NEEDS_DETAILS, Refund.Status.MANUAL_QUEUED):
            raise PaymentError(_("This refund no longer needs bank details."))
        if bank not in BANK_NAMES:
            raise PaymentError(_("Choose a bank from the list."), field="bank")
        refund.bank, refund.account_number, refund.holder_name = bank, account_number, holder_name.strip()
        refund.status = Refund.Status.MANUAL_QUEUED
        refund.save(update_fields=["bank", "account_number", "holder_name", "status"])
    return refund


def _require_staff(actor: User) -> None:
    if not (actor.is_staff and actor.is_active):
        raise PaymentError(_("Only staff can do this."))


def refund_mark_manual_done(*, refund_id: int, actor: User, reference: str, now: datetime | None = None) -> Refund:
    """Staff sent the bank transfer: the refund is done and the ledger says where the money went."""
    now = now or timezone.now()
    _require_staff(actor)
    reference = reference.strip()
    if len(reference) < 4:
        raise PaymentError(_("Enter the bank transfer reference."), field="reference")
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("booking").get(pk=refund_id)
        if refund.status != Refund.Status.MANUAL_QUEUED:
            raise PaymentError(_("Only a queued bank-transfer refund can be marked as sent."))
        refund.transfer_reference = reference[:64]
        refund.save(update_fields=["transfer_reference"])
        _refund_done(refund, now=now, status=Refund.Status.MANUAL_DONE, counter_account=ledger.BANK, actor=actor)
    return refund


def refund_retry(*, refund_id: int, actor: User) -> Refund:
    """Staff send a failed gateway refund again (same refund key), after fixing the cause."""
    _require_staff(actor)
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != Refund.Status.FAILED:
            raise PaymentError(_("Only a failed refund can be retried."))
        refund.status = Refund.Status.PENDING
        refund.save(update_fields=["status"])
        _enqueue_refund(refund.pk)
    return refund


def refund_switch_to_manual(*, refund_id: int, actor: User) -> Refund:
    """When the gateway refuses for good (e.g. the card is closed): refund by bank transfer instead."""
    _require_staff(actor)
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("booking").get(pk=refund_id)
        if refund.status != Refund.Status.FAILED:
            raise PaymentError(_("Only a failed refund can be switched to a bank transfer."))
        refund.method = Refund.Method.MANUAL
        refund.status = Refund.Status.NEEDS_DETAILS
        refund.save(update_fields=["method", "status"])
        notification_record(
            recipient=refund.booking.customer,
            event="refund_needs_bank_details",
            context={"reference": refund.booking.reference, "amount": refund.amount},
        )
    return refund


# --- Companion bank account and payouts ------------------------------------------------------------------


def bank_account_save(*, profile: CompanionProfile, bank: str, account_number: str, holder_name: str) -> BankAccount:
    if bank not in BANK_NAMES:
        raise PaymentError(_("Choose a bank from the list."), field="bank")
    account, _created = BankAccount.objects.update_or_create(
        profile=profile,
        defaults={
            "bank": bank,
            "account_number": account_number,
            "holder_name": holder_name.strip(),
            "updated_at": timezone.now(),
        },
    )
    return account


def payout_request(*, profile: CompanionProfile, amount: int, now: datetime | None = None) -> Payout:
    """At least Rp 50.000, at most what is available, one open request at a time, to the companion's
    saved bank account. Under a lock on the profile, so two clicks cannot both pass the checks."""
    now = now or timezone.now()
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise PaymentError(_("Enter the amount in whole Rupiah."), field="amount")
    with transaction.atomic():
        profile = CompanionProfile.objects.select_for_update().get(pk=profile.pk)
        account = BankAccount.objects.filter(profile=profile).first()
        if account is None:
            raise PaymentError(_("Add your bank account first."))
        if Payout.objects.filter(profile=profile, status__in=Payout.OPEN_STATUSES).exists():
            raise PaymentError(_("You already have a payout in progress. Wait until it is paid or rejected."))
        if amount < PAYOUT_MINIMUM:
            raise PaymentError(_("The minimum payout is Rp 50.000."), field="amount")
        available = selectors.companion_balances(profile)["available"]
        if amount > available:
            raise PaymentError(
                _("You can request at most your available balance (%(available)s).") % {"available": rupiah(available)},
                field="amount",
            )
        try:
            with transaction.atomic():
                payout = Payout.objects.create(
                    profile=profile,
                    amount=amount,
                    bank=account.bank,
                    account_number=account.account_number,
                    holder_name=account.holder_name,
                    requested_at=now,
                )
        except IntegrityError as error:
            raise PaymentError(
                _("You already have a payout in progress. Wait until it is paid or rejected.")
            ) from error
    return payout


def _decide(payout_id: int, *, actor: User, expected: tuple[str, ...]) -> Payout:
    _require_staff(actor)
    payout = Payout.objects.select_for_update().select_related("profile__user").get(pk=payout_id)
    if payout.status not in expected:
        raise PaymentError(
            _("This payout can no longer be changed that way (status: %(status)s).")
            % {"status": payout.get_status_display()}
        )
    return payout


def payout_approve(*, payout_id: int, actor: User, now: datetime | None = None) -> Payout:
    with transaction.atomic():
        payout = _decide(payout_id, actor=actor, expected=(Payout.Status.REQUESTED,))
        payout.status, payout.decided_at, payout.decided_by = Payout.Status.APPROVED, now or timezone.now(), actor
        payout.save(update_fields=["status", "decided_at", "decided_by"])
    return payout


def payout_reject(*, payout_id: int, actor: User, reason: str, now: datetime | None = None) -> Payout:
    reason = reason.strip()
    if len(reason) < 5:
        raise PaymentError(_("Tell the companion why (at least 5 characters)."), field="reason")
    with transaction.atomic():
        payout = _decide(payout_id, actor=actor, expected=Payout.OPEN_STATUSES)
        payout.status, payout.decided_at, payout.decided_by = Payout.Status.REJECTED, now or timezone.now(), actor
        payout.rejection_reason = reason[:300]
        payout.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason"])
        notification_record(
            recipient=payout.profile.user, event="payout_rejected", context={"amount": payout.amount, "reason": reason}
        )
    return payout


def payout_mark_paid(*, payout_id: int, actor: User, reference: str = "", now: datetime | None = None) -> Payout:
    """The money left through the disbursement adapter (by default: staff made the bank transfer and
    give its reference). The ledger moves the amount from what we owe the companion to the bank."""
    now = now or timezone.now()
    with transaction.atomic():
        payout = _decide(payout_id, actor=actor, expected=(Payout.Status.APPROVED,))
        result = get_disbursement().disburse(
            PayoutInstruction(
                payout_id=payout.pk,
                amount=payout.amount,
                bank=payout.bank,
                account_number=payout.account_number,
                holder_name=payout.holder_name,
                reference=reference,
            )
        )
        payout.status, payout.paid_at, payout.transfer_reference = Payout.Status.PAID, now, result.reference
        payout.save(update_fields=["status", "paid_at", "transfer_reference"])
        ledger.transfer(
            reference=f"payout:{payout.pk}:paid",
            kind="payout_paid",
            debit=ledger.companion_payable_account(payout.profile_id),
            credit=ledger.BANK,
            amount=payout.amount,
            memo=f"payout {payout.pk} ref {result.reference}",
        )
        notification_record(recipient=payout.profile.user, event="payout_paid", context={"amount": payout.amount})
    return payout
