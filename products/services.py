"""Selling paid products: who may buy what (eligibility), the one open checkout per person and product, and
the period a paid purchase holds. The money (checkout, the earnings transfer, deferred revenue, refunds) is
payments' (payments/products.py), which calls `purchase_paid` inside the transaction that books the money.

- `eligibility(buyer, product, now) -> list[str]`: what is missing (translated), empty when the person may buy.
- `purchase_open(buyer=, package=, method=, now=)`: the person's open purchase of that product, made once
  (a double click or a second tab gets the same one). Raises ProductError when not eligible.
- `purchase_paid(purchase_id=, now=) -> bool`: the money arrived: open -> paid, with its period starting where
  the person's last period of the product ends (never two at once). False when the purchase was closed
  meanwhile (its checkout abandoned) or the buyer is no longer eligible (it closes): the caller gives the
  money back (the late-payment rule).
- `purchase_cancel(purchase_id=, now=)`: the checkout ended unpaid.
- `sorotan_pause_shift(profile=, paused_for=)`: pausing the profile pauses the promotion's clock.
- `plus_end_reminders(now=)`: three days before a member's pass ends (and no later pass follows), they are
  reminded once, with a link to renew (there is no automatic renewal)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from companions import promoted_facts
from companions.models import CompanionProfile, VerificationStatus
from core import locks
from notifications.services import notification_record
from products import hooks
from products.errors import ProductError
from products.models import Package, Product, Purchase
from products.selectors import LIVE, period_end

SOROTAN_MINIMUM_RATING = 4.5
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    return "PRD" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(9))


def companion_profile(user: User) -> CompanionProfile | None:
    return CompanionProfile.objects.filter(user=user).first() if user.role == Role.COMPANION else None


def eligibility(buyer: User, product: str, now: datetime | None = None) -> list[str]:
    """What the person lacks to buy `product` now (translated sentences; empty: they may buy)."""
    if not buyer.is_active:
        return [_("Your account is not active.")]
    if product == Product.PLUS:
        if buyer.role != Role.CUSTOMER:
            return [_("Kompanion Plus is for customers.")]
        return []
    profile = companion_profile(buyer)
    if profile is None:
        return [_("Sorotan is for companions with a profile.")]
    missing = []
    if profile.verification_status != VerificationStatus.APPROVED:
        missing.append(_("Your identity (KTP) must be verified."))
    if not profile.is_listed:
        missing.append(_("Your profile must be listed in search."))
    if profile.rating_count and profile.rating_total < SOROTAN_MINIMUM_RATING * profile.rating_count:
        missing.append(_("Your rating must be at least 4.5."))
    if hooks.open_safety_report(buyer):
        missing.append(_("A safety report about you is still open."))
    return missing


def purchase_open(*, buyer: User, package: Package, method: str, now: datetime | None = None) -> Purchase:
    now = now or timezone.now()
    if not package.active:
        raise ProductError(_("This package is not on sale any more."), field="package")
    if method not in Purchase.Method.values or (
        method == Purchase.Method.EARNINGS and package.product != Product.SOROTAN
    ):
        raise ProductError(_("Choose how to pay."), field="method")
    missing = eligibility(buyer, package.product, now)
    if missing:
        raise ProductError(" ".join(missing))
    existing = Purchase.objects.filter(buyer=buyer, product=package.product, status=Purchase.Status.OPEN).first()
    if existing is not None:
        return existing
    profile = companion_profile(buyer) if package.product == Product.SOROTAN else None
    try:
        with transaction.atomic():
            return Purchase.objects.create(
                reference=new_reference(),
                buyer=buyer,
                profile=profile,
                package=package,
                product=package.product,
                days=package.days,
                price=package.price,
                method=method,
                created_at=now,
            )
    except IntegrityError:  # the same person's other tab opened one this instant
        existing = Purchase.objects.filter(buyer=buyer, product=package.product, status=Purchase.Status.OPEN).first()
        if existing is None:
            raise
        return existing


def purchase_paid(*, purchase_id: int, now: datetime | None = None) -> bool:
    """Call inside the transaction that books the money. True when this call made the purchase paid."""
    now = now or timezone.now()
    locks.require_transaction()
    purchase = locks.lock_one(Purchase, purchase_id)
    if purchase is None or purchase.status != Purchase.Status.OPEN:
        return False
    if eligibility(purchase.buyer, purchase.product, now):
        # No longer eligible (e.g. a safety report opened, the profile unlisted) since the checkout opened:
        # the purchase closes and the money goes back whole.
        purchase.status = Purchase.Status.CANCELLED
        purchase.save(update_fields=["status"])
        return False
    # The buyer's periods of this product are decided one at a time (two purchases paid at once chain).
    locks.lock_one(User, purchase.buyer_id)
    last_end = period_end(buyer=purchase.buyer, product=purchase.product, profile=purchase.profile)
    starts = max(now, last_end) if last_end else now
    purchase.status = Purchase.Status.PAID
    purchase.paid_at = now
    purchase.starts_at = starts
    purchase.ends_at = starts + timedelta(days=purchase.days)
    purchase.save(update_fields=["status", "paid_at", "starts_at", "ends_at"])
    if purchase.product == Product.SOROTAN:
        promoted_facts.schedule_changed()  # search sees the new promotion at once
    return True


def purchase_cancel(*, purchase_id: int, now: datetime | None = None) -> bool:
    """The checkout ended unpaid: open -> cancelled (a later payment is refunded)."""
    return bool(
        Purchase.objects.filter(pk=purchase_id, status=Purchase.Status.OPEN).update(status=Purchase.Status.CANCELLED)
    )


def sorotan_paused_changed(*, profile: CompanionProfile, paused: bool, now: datetime) -> int:
    """companions.promoted_facts pause listener (inside the pause's transaction): a pause marks the running and
    coming promotions; the resume moves them on by the time paused. Returns how many periods changed."""
    periods = Purchase.objects.filter(product=Product.SOROTAN, profile=profile, status__in=LIVE, ends_at__gt=now)
    if paused:
        return periods.filter(paused_at__isnull=True).update(paused_at=now)
    moved = 0
    for purchase in locks.lock(
        Purchase.objects.filter(product=Product.SOROTAN, profile=profile, paused_at__isnull=False)
    ):
        moved += sorotan_pause_shift(profile=profile, paused_from=purchase.paused_at, resumed_at=now, only=purchase.pk)
    Purchase.objects.filter(product=Product.SOROTAN, profile=profile, paused_at__isnull=False).update(paused_at=None)
    promoted_facts.schedule_changed()
    return moved


def sorotan_pause_shift(
    *, profile: CompanionProfile, paused_from: datetime, resumed_at: datetime, only: int | None = None
) -> int:
    """The profile was paused from `paused_from` to `resumed_at`: the running promotion and the ones after
    it end (and start) that much later, so a paused day is never a paid day lost. Returns how many moved."""
    if resumed_at <= paused_from:
        return 0
    shift = resumed_at - paused_from
    periods = Purchase.objects.filter(
        product=Product.SOROTAN, profile=profile, status__in=LIVE, ends_at__gt=paused_from
    )
    if only is not None:
        periods = periods.filter(pk=only)
    moved = periods.filter(starts_at__gte=paused_from).update(
        starts_at=F("starts_at") + shift, ends_at=F("ends_at") + shift
    )
    moved += periods.filter(starts_at__lt=paused_from).update(ends_at=F("ends_at") + shift)
    return moved


PLUS_REMINDER_BEFORE = timedelta(days=3)


def plus_end_reminders(*, now: datetime | None = None) -> int:
    """Reminds each member whose last pass ends within three days, once per pass. Returns how many."""
    now = now or timezone.now()
    ending = Purchase.objects.filter(
        product=Product.PLUS,
        status=Purchase.Status.PAID,
        reminded_at__isnull=True,
        ends_at__gt=now,
        ends_at__lte=now + PLUS_REMINDER_BEFORE,
    ).select_related("buyer")
    reminded = 0
    for purchase in ending:
        later = Purchase.objects.filter(
            product=Product.PLUS, buyer=purchase.buyer, status__in=LIVE, starts_at__gte=purchase.ends_at
        ).exists()
        with transaction.atomic():
            if not Purchase.objects.filter(pk=purchase.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue  # another run took it
            if later:
                continue  # already renewed: nothing to remind
            notification_record(
                recipient=purchase.buyer,
                event="plus_ending",
                context={"date": timezone.localdate(purchase.ends_at).isoformat()},
                dedupe_key=f"plus-ending:{purchase.pk}",
            )
            reminded += 1
    return reminded
