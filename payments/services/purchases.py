"""Paying for paid products (issue 17): Sorotan and Kompanion Plus, through the same gateway, webhook,
reconciliation and refunds as bookings, and booked in the same ledger.

- `purchase_checkout(purchase_id=, actor=, finish_url=, now=)`: the payment page for an open purchase (an
  attempt still open is reused: a second click never makes a second charge possible). Order ids are the
  purchase's reference and the attempt number (`PRD…-1`), never a booking's.
- `purchase_settled(payment, now)` (webhooks, when the gateway says paid): provider clearing -> the purchase's
  deferred revenue account, then the purchase becomes paid with its period; money for a purchase that
  cannot take it (paid already by another attempt, or closed) goes back whole (the late-payment rule).
- `purchase_pay_from_earnings(purchase_id=, actor=, now=)`: a companion pays Sorotan from their available
  earnings (companion payable -> deferred revenue), under the same lock as a payout request, so the two can
  never spend the same Rupiah.
- `purchases_recognise(now=)`: the daily job: each paid purchase's deferred revenue becomes platform revenue
  in proportion to the time of its period gone by (exact to the Rupiah at the end; idempotent: a conditional
  UPDATE of `recognised` decides each posting).
- `purchase_refund_unused(purchase_id=, actor=, now=)`: staff give back the unused part: recognised up to now
  first, then what remains deferred goes back (through the gateway, or to the companion's earnings) and the
  period ends now.
- `purchases_sweep(now=)`: open purchases with no payment in progress for a day are closed."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from companions import promoted_facts
from companions.models import CompanionProfile
from core import locks
from payments import ledger, selectors
from payments.errors import PaymentError, PaymentNotAllowed
from payments.gateways import CheckoutRequest, Item
from payments.locks import lock_get
from payments.models import Payment
from payments.services.checkout import open_checkout_page
from payments.services.refunds import payment_refund_unplaced, refund_open
from products import services as product_services
from products.models import Product, Purchase

CHECKOUT_MINUTES = 60
CHECKOUT_IN_PROGRESS = timedelta(seconds=30)
MINIMUM_CHECKOUT_TIME = timedelta(minutes=2)
STALE_OPEN_PURCHASE = timedelta(days=1)
OPEN_ATTEMPTS = (Payment.Status.CREATED, Payment.Status.PENDING, Payment.Status.CHALLENGE)


def _lock_purchase(purchase_id: int) -> Purchase:
    return lock_get(Purchase.objects.filter(pk=purchase_id).select_related("buyer", "package"))


def _own_open_purchase(purchase_id: int, actor: User) -> Purchase:
    purchase = _lock_purchase(purchase_id)
    if purchase.buyer_id != actor.pk:
        raise PaymentNotAllowed(_("This is not your purchase."))
    if purchase.status == Purchase.Status.PAID:
        raise PaymentError(_("This purchase is already paid."))
    if purchase.status != Purchase.Status.OPEN:
        raise PaymentError(_("This purchase is closed. Start a new one."))
    return purchase


def purchase_checkout(*, purchase_id: int, actor: User, finish_url: str, now: datetime | None = None) -> Payment:
    now = now or timezone.now()
    with transaction.atomic():
        purchase = _own_open_purchase(purchase_id, actor)
        if not purchase.payable_online:
            raise PaymentError(_("This purchase is paid from your earnings."))
        attempts = Payment.objects.filter(purchase=purchase)
        if attempts.filter(status=Payment.Status.PAID).exists():
            raise PaymentError(_("This purchase is already paid."))
        if attempts.filter(
            status=Payment.Status.CREATED, redirect_url="", created_at__gt=now - CHECKOUT_IN_PROGRESS
        ).exists():
            raise PaymentError(_("Your payment page is being prepared. Please try again in a moment."))
        reusable = (
            attempts.filter(
                status__in=(Payment.Status.CREATED, Payment.Status.PENDING), expires_at__gt=now + MINIMUM_CHECKOUT_TIME
            )
            .exclude(redirect_url="")
            .first()
        )
        if reusable is not None:
            return reusable
        payment = Payment.objects.create(
            purchase=purchase,
            order_id=f"{purchase.reference}-{attempts.count() + 1}",
            amount=purchase.price,
            expires_at=now + timedelta(minutes=CHECKOUT_MINUTES),
            created_at=now,
        )
        request = CheckoutRequest(
            order_id=payment.order_id,
            amount=payment.amount,
            items=[Item(id=purchase.product, name=purchase.package.name[:50], price=purchase.price)],
            customer_name=actor.get_short_name() or actor.email,
            customer_email=actor.email,
            customer_phone=str(actor.phone or ""),
            expires_at=payment.expires_at,
            finish_url=finish_url,
        )
    return open_checkout_page(payment, request)


def purchase_settled(payment: Payment, *, now: datetime) -> bool:
    """The gateway says `payment` (for a purchase) is paid; inside the notification's transaction, the
    payment row locked. True when the purchase took the money; False when it went back whole."""
    ledger.transfer(
        reference=f"payment:{payment.order_id}:settled",
        kind="purchase_settled",
        debit=ledger.PROVIDER_CLEARING,
        credit=ledger.deferred_account(payment.purchase_id),
        amount=payment.amount,
        memo=f"purchase {payment.purchase.reference}",
    )
    if product_services.purchase_paid(purchase_id=payment.purchase_id, now=now):
        payment.invoice_number = f"INV/{timezone.localtime(now):%Y%m%d}/{payment.purchase.reference}"
        return True
    payment_refund_unplaced(payment=payment)
    return False


def purchase_pay_from_earnings(*, purchase_id: int, actor: User, now: datetime | None = None) -> Purchase:
    now = now or timezone.now()
    with transaction.atomic():
        profile = lock_get(CompanionProfile.objects.filter(user=actor))  # the payout request's lock
        purchase = _own_open_purchase(purchase_id, actor)
        if purchase.method != Purchase.Method.EARNINGS or purchase.product != Product.SOROTAN:
            raise PaymentError(_("This purchase is paid online."))
        available = selectors.companion_balances(profile)["available"]
        if available < purchase.price:
            raise PaymentError(_("Your available earnings are not enough. Pay online instead."))
        ledger.transfer(
            reference=f"purchase:{purchase.reference}:from_earnings",
            kind="purchase_from_earnings",
            debit=ledger.companion_payable_account(profile.pk),
            credit=ledger.deferred_account(purchase.pk),
            amount=purchase.price,
            memo=f"purchase {purchase.reference}",
        )
        if not product_services.purchase_paid(purchase_id=purchase.pk, now=now):
            # No longer eligible: the transfer above rolls back with this error (nothing spent).
            raise PaymentError(
                " ".join(product_services.eligibility(actor, purchase.product, now))
                or _("This purchase is closed. Start a new one.")
            )
    purchase.refresh_from_db()
    return purchase


def recognisable(purchase: Purchase, now: datetime) -> int:
    """What of the price is earned by `now`: in proportion to the period gone by, all of what was not refunded
    at the end."""
    if purchase.starts_at is None or now <= purchase.starts_at:
        return 0
    kept = purchase.price - purchase.refunded
    total = (purchase.ends_at - purchase.starts_at).total_seconds()
    if total <= 0 or now >= purchase.ends_at:
        return kept
    return min(kept, int(purchase.price * (now - purchase.starts_at).total_seconds() // total))


def _recognise(purchase: Purchase, now: datetime) -> int:
    """Posts what became earned since the last run (call with the purchase locked). Returns the amount."""
    target = recognisable(purchase, now)
    step = target - purchase.recognised
    if step <= 0:
        return 0
    changed = Purchase.objects.filter(pk=purchase.pk, recognised=purchase.recognised).update(recognised=target)
    if not changed:
        return 0
    ledger.transfer(
        reference=f"purchase:{purchase.reference}:recognised:{target}",
        kind="purchase_recognised",
        debit=ledger.deferred_account(purchase.pk),
        credit=ledger.PLATFORM_REVENUE,
        amount=step,
        memo=f"purchase {purchase.reference}",
    )
    purchase.recognised = target
    return step


def purchases_recognise(*, now: datetime | None = None) -> int:
    """The daily job: returns the Rupiah recognised in this run."""
    now = now or timezone.now()
    due = Purchase.objects.filter(
        status=Purchase.Status.PAID, starts_at__lt=now, recognised__lt=F("price") - F("refunded")
    )
    total = 0
    for purchase_id in due.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            purchase = locks.lock_one(Purchase, purchase_id)
            total += _recognise(purchase, now)
    return total


def purchase_refund_unused(*, purchase_id: int, actor: User, now: datetime | None = None) -> int:
    """Staff give back the unused part of a paid purchase. Returns the amount refunded."""
    now = now or timezone.now()
    if not (actor.is_staff and actor.is_active):
        raise PaymentNotAllowed(_("Only staff can do this."))
    with transaction.atomic():
        purchase = _lock_purchase(purchase_id)
        if purchase.status != Purchase.Status.PAID:
            raise PaymentError(_("Only a paid purchase can be refunded."))
        _recognise(purchase, now)
        unused = purchase.price - purchase.recognised - purchase.refunded
        if unused <= 0:
            raise PaymentError(_("Nothing of this purchase is unused."))
        deferred = ledger.deferred_account(purchase.pk)
        if purchase.method == Purchase.Method.EARNINGS:
            ledger.transfer(
                reference=f"purchase:{purchase.reference}:unused_to_earnings",
                kind="purchase_refund_earnings",
                debit=deferred,
                credit=ledger.companion_payable_account(purchase.profile_id),
                amount=unused,
                memo=f"purchase {purchase.reference}: unused part",
            )
        else:
            payment = Payment.objects.filter(purchase=purchase, status=Payment.Status.PAID, needs_refund=False).first()
            if payment is None:
                raise PaymentError(_("No payment of this purchase can be refunded."))
            ledger.transfer(
                reference=f"purchase:{purchase.reference}:unused",
                kind="purchase_refund",
                debit=deferred,
                credit=ledger.REFUNDS_PAYABLE,
                amount=unused,
                memo=f"purchase {purchase.reference}: unused part",
            )
            refund_open(booking=None, payment=payment, amount=unused, reason="unused", now=now)
        Purchase.objects.filter(pk=purchase.pk).update(
            status=Purchase.Status.REFUNDED, refunded=unused, ends_at=max(now, purchase.starts_at)
        )
        if purchase.product == Product.SOROTAN:
            promoted_facts.schedule_changed()  # the promotion stops in search at once
    return unused


def purchases_sweep(*, now: datetime | None = None) -> int:
    """Open purchases left for a day with no payment in progress are closed (a payment that still arrives
    goes back whole). Returns how many were closed."""
    now = now or timezone.now()
    stale = Purchase.objects.filter(status=Purchase.Status.OPEN, created_at__lt=now - STALE_OPEN_PURCHASE).exclude(
        payments__status__in=OPEN_ATTEMPTS
    )
    closed = 0
    for purchase_id in stale.values_list("pk", flat=True):
        closed += product_services.purchase_cancel(purchase_id=purchase_id, now=now)
    return closed


@shared_task(name="payments.tasks.purchases_daily_task")
def purchases_daily_task() -> dict:
    """Daily: deferred revenue recognised for the day gone by; open purchases left a day closed; Plus members
    whose pass ends within three days reminded (products.services.plus_end_reminders)."""
    return {
        "recognised": purchases_recognise(),
        "closed": purchases_sweep(),
        "reminded": product_services.plus_end_reminders(),
    }
