"""Promo codes and the welcome discount: what a booking may take off its price, and the life of that
discount with the booking (reserved -> consumed | released).

Public API (the request page's HTMX preview and the admin build on it):

- `quote(customer=, profile=, activity=, start=, hours=, code=, now=None) -> Quote`: the price with the
  discount the request would get, or why a code does not apply. Writes nothing.
- `code_check_allowed(request_or_user) -> bool`: the rate limit of code checks (10 a minute per person);
  call it before `quote` with a code, and show `RATE_LIMITED_MESSAGE` when it says no.
- `normalize_code(text) -> str`: trimmed (codes compare case-insensitively in the database).
- `promotion_pause(promotion=, paused=)`: pause or resume a code.

The booking flow reaches this module only through bookings/hooks.py (PromotionsConfig.ready()):
`booking_discount` reserves inside booking_request's transaction, `booking_status_changed` consumes the
redemption when the payment settles (confirmed) and releases it when the booking is declined, withdrawn,
expires, or is cancelled with a full refund (a partial refund keeps it used).

The money rule: a discount comes out of the platform's part only. It is capped at service fee +
commission (so the companion's earnings never change: they are subtotal - commission either way) and
never brings the total below `PROMOTION_MINIMUM_TOTAL`. One discount per booking: a code the customer
enters replaces the welcome discount (never both).

A membership's part (Kompanion Plus: half the service fee, products through bookings/hooks.py) stacks with
it: it is taken first and arrives here as the `discount` of the price passed in; promotions' part is capped
within what remains (`cap_discount`), so the two together stay within fee + commission and the minimum
total. A Redemption records promotions' part only (products.MemberSaving the member part): the booking's
`discount` is their sum.

Counters (`uses_reserved`, `budget_reserved`) change only through atomic conditional UPDATEs."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest, Lower
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from bookings.errors import BookingError
from bookings.models import Booking, BookingStatus
from bookings.pricing import PriceSnapshot, booking_quote, compute_price, with_discount
from core.cache import CacheUnavailable, unguarded
from core.formatting import format_basis_points, format_rupiah
from core.money import percent_of
from promotions import referrals
from promotions.models import Promotion, Redemption, StaffDecision, Voucher

logger = logging.getLogger(__name__)

S = BookingStatus
SOURCE_CODE = Redemption.Source.CODE
SOURCE_WELCOME = Redemption.Source.WELCOME
SOURCE_VOUCHER = Redemption.Source.VOUCHER
RATE_LIMITED_MESSAGE = gettext_lazy("Too many code checks. Wait a minute and try again.")
# Statuses after which a customer is no longer new: a booking that holds time, happened, or was paid.
_NOT_FIRST_STATUSES = (S.REQUESTED, S.AWAITING_PAYMENT, S.CONFIRMED, S.COMPLETED, S.DISPUTED, S.RESOLVED)
_TAKEN = (Redemption.Status.RESERVED, Redemption.Status.CONSUMED)


class PromotionError(BookingError):
    """A code does not apply: `message` says why (translated), on the `promo_code` field."""

    def __init__(self, message, *, reason: str):
        super().__init__(message, field="promo_code")
        self.reason = reason


@dataclass(frozen=True)
class Quote:
    """What a request would cost. `reason` is None when `code` applies (or no code was given); otherwise it
    says why the code does not apply, and the figures are those of a request sent without the code (the
    welcome discount if the customer still has it), since the request can still be sent without it.

    source: "code", "welcome" or None (no discount). label: e.g. "KOMPANION15 (15%)", "" without one.
    `discount` is promotions' part; `member_discount` the membership's part it was given (taken first);
    `total` is net of both."""

    subtotal: int
    service_fee: int
    discount: int
    total: int
    label: str
    reason: str | None
    source: str | None
    code: str
    member_discount: int = 0


def normalize_code(text: str | None) -> str:
    """Trimmed; the database compares codes case-insensitively (a unique index on lower(code))."""
    return (text or "").strip()


def find_promotion(code: str) -> Promotion | None:
    code = normalize_code(code)
    if not code:
        return None
    return Promotion.objects.alias(code_lower=Lower("code")).filter(code_lower=code.lower()).first()


# --- The rules ---------------------------------------------------------------------------------------------


def unknown_message() -> str:
    # The same words whether a code exists or not (no enumeration of codes).
    return _("This code is not valid.")


def is_first_booking(customer) -> bool:
    """No booking of this customer holds time, happened or was ever paid."""
    return not (
        Booking.objects.filter(customer=customer)
        .filter(Q(status__in=_NOT_FIRST_STATUSES) | Q(paid_at__isnull=False))
        .exists()
    )


def cap_discount(raw: int, price: PriceSnapshot) -> int:
    """At most the platform's part (fee + commission), and the total stays at least the minimum charge; less
    what `price` already takes off (a membership's part, taken first), so the sum stays within both."""
    most = (
        min(
            price.service_fee + price.commission,
            price.subtotal + price.service_fee - settings.PROMOTION_MINIMUM_TOTAL,
        )
        - price.discount
    )
    return max(0, min(raw, most))


def promotion_discount(promotion: Promotion, price: PriceSnapshot) -> int:
    if promotion.kind == Promotion.Kind.FIXED:
        raw = promotion.amount
    else:
        raw = percent_of(price.subtotal, promotion.basis_points)
        if promotion.amount:
            raw = min(raw, promotion.amount)
    return cap_discount(raw, price)


def _welcome_terms(customer) -> tuple[int, int, bool]:
    """(basis points, cap, invited): a friend who came through an invitation in progress gets the raised
    welcome discount."""
    if getattr(customer, "pk", None) is not None and referrals.invited_welcome(customer):
        return settings.REFERRAL_WELCOME_DISCOUNT_BASIS_POINTS, settings.REFERRAL_WELCOME_DISCOUNT_CAP, True
    return settings.WELCOME_DISCOUNT_BASIS_POINTS, settings.WELCOME_DISCOUNT_CAP, False


def welcome_discount(customer, price: PriceSnapshot) -> int:
    basis_points, cap, _invited = _welcome_terms(customer)
    if basis_points <= 0 or not is_first_booking(customer):
        return 0
    return cap_discount(min(percent_of(price.subtotal, basis_points), cap), price)


@dataclass(frozen=True)
class Automatic:
    """The discount a request gets without a code: the larger of the customer's referral voucher and the
    welcome discount of a first booking (one discount per booking; a voucher not taken stays for later)."""

    discount: int
    source: str | None
    label: str
    voucher: Voucher | None = None


def automatic_discount(customer, price: PriceSnapshot, now: datetime) -> Automatic:
    welcome = welcome_discount(customer, price)
    voucher = referrals.usable_voucher(customer, now)
    # A voucher is used whole: only on a booking whose platform part covers all of it (else it waits for a
    # larger booking instead of being spent for less than it is worth).
    from_voucher = voucher.amount if voucher and cap_discount(voucher.amount, price) == voucher.amount else 0
    if from_voucher and from_voucher >= welcome:
        return Automatic(from_voucher, SOURCE_VOUCHER, _("Referral voucher"), voucher)
    if welcome:
        return Automatic(welcome, SOURCE_WELCOME, _welcome_label(customer))
    return Automatic(0, None, "")


def _refusal(
    promotion: Promotion | None, *, customer, profile, activity, price, discount, now
) -> PromotionError | None:
    """Why `promotion` does not apply to this request (None: it applies). Reads the counters without a
    lock: the reservation's conditional UPDATE is what decides under concurrency."""
    if promotion is None:
        return PromotionError(unknown_message(), reason="unknown")
    if promotion.paused:
        return PromotionError(_("This code is paused right now."), reason="paused")
    if promotion.valid_from and now < promotion.valid_from:
        return PromotionError(_("This code is not valid yet."), reason="not_yet_valid")
    if promotion.valid_until and now >= promotion.valid_until:
        return PromotionError(_("This code has expired."), reason="expired")
    if price.subtotal < promotion.minimum_subtotal:
        amount = format_rupiah(promotion.minimum_subtotal, language=get_language() or "id")
        return PromotionError(
            _("This code needs a subtotal of at least %(amount)s.") % {"amount": amount}, reason="minimum"
        )
    cities = {city.pk for city in promotion.cities.all()}
    if cities and profile.city_id not in cities:
        return PromotionError(_("This code does not apply in this companion's city."), reason="city")
    activities = {item.pk for item in promotion.activities.all()}
    if activities and activity.pk not in activities:
        return PromotionError(_("This code does not apply to this activity."), reason="activity")
    if promotion.first_booking_only and not is_first_booking(customer):
        return PromotionError(_("This code is only for your first booking."), reason="first_booking")
    if promotion.new_customer_days is not None and customer.date_joined < now - timedelta(
        days=promotion.new_customer_days
    ):
        return PromotionError(
            _("This code is only for customers who signed up in the last %(days)d days.")
            % {"days": promotion.new_customer_days},
            reason="new_customers",
        )
    used = Redemption.objects.filter(promotion=promotion, customer=customer, status__in=_TAKEN).count()
    if used >= promotion.uses_per_customer:
        return PromotionError(_("You have already used this code."), reason="already_used")
    if promotion.total_uses is not None and promotion.uses_reserved >= promotion.total_uses:
        return _exhausted()
    if discount <= 0:
        return PromotionError(_("This code gives no discount on this booking."), reason="no_discount")
    if promotion.budget is not None and promotion.budget_reserved + discount > promotion.budget:
        return _budget_gone()
    return None


def _exhausted() -> PromotionError:
    return PromotionError(_("This code has been used up."), reason="exhausted")


def _budget_gone() -> PromotionError:
    return PromotionError(_("This code's budget is used up."), reason="budget")


def _welcome_label(customer) -> str:
    basis_points, _cap, invited = _welcome_terms(customer)
    percent = format_basis_points(basis_points, language=get_language() or "id")
    if invited:
        return _("Invited friend's discount (%(percent)s)") % {"percent": percent}
    return _("Welcome discount (%(percent)s)") % {"percent": percent}


def _label(promotion: Promotion, discount: int) -> str:
    language = get_language() or "id"
    if promotion.kind == Promotion.Kind.PERCENT:
        return f"{promotion.code} ({format_basis_points(promotion.basis_points, language=language)})"
    return promotion.code


# --- The preview ------------------------------------------------------------------------------------------


def quote(
    *,
    customer,
    profile,
    activity,
    start,
    hours: int,
    code: str = "",
    now: datetime | None = None,
    member_discount: int = 0,
) -> Quote:
    """The price of this request with its discount: the code's if it applies, otherwise (and without a
    code) the welcome discount of a first booking; with `member_discount` (a membership's part, taken first)
    promotions' part is capped within what remains. Writes nothing. Rate-limit code checks first
    (`code_check_allowed`)."""
    now = now or timezone.now()
    code = normalize_code(code)
    price = booking_quote(profile=profile, hours=hours, now=now)
    if member_discount:
        price = with_discount(price, member_discount)
    reason = None
    if code:
        promotion = find_promotion(code)
        discount = promotion_discount(promotion, price) if promotion else 0
        refusal = _refusal(
            promotion, customer=customer, profile=profile, activity=activity, price=price, discount=discount, now=now
        )
        if refusal is None:
            return _quote(price, discount, _label(promotion, discount), None, SOURCE_CODE, code)
        reason = refusal.message
    auto = automatic_discount(customer, price, now)
    return _quote(price, auto.discount, auto.label, reason, auto.source, code)


def _quote(price, discount, label, reason, source, code) -> Quote:
    return Quote(
        subtotal=price.subtotal,
        service_fee=price.service_fee,
        discount=discount,
        total=price.subtotal + price.service_fee - price.discount - discount,
        label=label,
        reason=reason,
        source=str(source) if source else None,
        code=code,
        member_discount=price.discount,
    )


def code_check_allowed(request_or_user) -> bool:
    """At most PROMO_CODE_CHECKS_PER_MINUTE code checks a minute per person (per signed-in user, else per
    session/address). Fails closed: when the cache cannot count, checks are refused (the request can still
    be sent with the code, which booking_request checks)."""
    user = getattr(request_or_user, "user", request_or_user)
    if getattr(user, "is_authenticated", False):
        who = f"user:{user.pk}"
    else:
        from allauth.account.adapter import get_adapter

        who = f"ip:{get_adapter().get_client_ip(request_or_user)}"
    key = f"promo-check:{who}:{int(time.time() // 60)}"
    limit = settings.PROMO_CODE_CHECKS_PER_MINUTE
    try:
        with unguarded():
            if cache.add(key, 1, timeout=61):
                return True
            try:
                return cache.incr(key) <= limit
            except ValueError:
                cache.add(key, 1, timeout=61)
                return True
    except (CacheUnavailable, RedisError, OSError):
        logger.warning("promo code check limiter unavailable: refusing the check")
        return False


# --- The booking's redemption (called through bookings/hooks.py) ------------------------------------------


@dataclass
class Reservation:
    """A discount reserved for a booking about to be created (booking_request's transaction)."""

    discount: int
    source: str
    customer: object
    promotion: Promotion | None
    now: datetime
    voucher: Voucher | None = None

    def attach(self, booking) -> Redemption:
        return Redemption.objects.create(
            promotion=self.promotion,
            voucher=self.voucher,
            source=self.source,
            booking=booking,
            customer=self.customer,
            discount=self.discount,
            status=Redemption.Status.RESERVED,
            reserved_at=self.now,
        )


def _reserve_counters(promotion: Promotion, discount: int) -> bool:
    """The one write of the counters on the way up: one atomic conditional UPDATE."""
    fits = Q(total_uses__isnull=True) | Q(uses_reserved__lt=F("total_uses"))
    fits &= Q(budget__isnull=True) | Q(budget__gte=F("budget_reserved") + discount)
    return (
        Promotion.objects.filter(fits, pk=promotion.pk, paused=False).update(
            uses_reserved=F("uses_reserved") + 1, budget_reserved=F("budget_reserved") + discount
        )
        == 1
    )


def booking_discount(*, customer, profile, activity, start, hours, price, code, now) -> Reservation | None:
    """bookings/hooks.py `discount`: reserves the code's discount (or the welcome discount without a code)
    for a request being created. Raises PromotionError (nothing written: the caller's transaction rolls
    back) when the code does not apply or its last use or budget was just taken."""
    code = normalize_code(code)
    if not code:
        auto = automatic_discount(customer, price, now)
        if auto.voucher is not None and not referrals.voucher_reserve(auto.voucher, now):
            # Another request took the voucher this instant: this one gets what it would without it.
            discount = welcome_discount(customer, price)
            return Reservation(discount, SOURCE_WELCOME, customer, None, now) if discount else None
        if not auto.discount:
            return None
        return Reservation(auto.discount, auto.source, customer, None, now, voucher=auto.voucher)
    promotion = find_promotion(code)
    discount = promotion_discount(promotion, price) if promotion else 0
    refusal = _refusal(
        promotion, customer=customer, profile=profile, activity=activity, price=price, discount=discount, now=now
    )
    if refusal is not None:
        raise refusal
    if not _reserve_counters(promotion, discount):
        promotion.refresh_from_db(fields=["uses_reserved", "budget_reserved", "paused"])
        if promotion.paused:
            raise PromotionError(_("This code is paused right now."), reason="paused")
        if promotion.total_uses is not None and promotion.uses_reserved >= promotion.total_uses:
            raise _exhausted()
        raise _budget_gone()
    return Reservation(discount, SOURCE_CODE, customer, promotion, now)


def booking_status_changed(*, booking, previous: str, to: str) -> None:
    """bookings/hooks.py `on_status_changed` (inside the transition's transaction, the booking locked)."""
    if to == S.CONFIRMED:
        redemption_consume(booking)
    elif to in (S.DECLINED, S.WITHDRAWN, S.EXPIRED):
        redemption_release(booking)
    elif to == S.CANCELLED and (booking.paid_at is None or (booking.refund_amount or 0) >= booking.total):
        redemption_release(booking)  # nothing paid, or everything back: the code is the customer's again


def redemption_consume(booking) -> bool:
    """The payment settled: reserved -> consumed, once (a repeated notification changes nothing). A booking
    confirmed after it expired (a late payment re-held the slot) takes its released redemption back."""
    now = timezone.now()
    if Redemption.objects.filter(booking=booking, status=Redemption.Status.RESERVED).update(
        status=Redemption.Status.CONSUMED, consumed_at=now
    ):
        voucher_id = Redemption.objects.filter(booking=booking).values_list("voucher_id", flat=True).first()
        if voucher_id:
            referrals.voucher_consume(voucher_id)
        return True
    released = Redemption.objects.filter(booking=booking, status=Redemption.Status.RELEASED).first()
    if released is None:
        return False
    Redemption.objects.filter(pk=released.pk, status=Redemption.Status.RELEASED).update(
        status=Redemption.Status.CONSUMED, consumed_at=now, released_at=None
    )
    if released.voucher_id and not Voucher.objects.filter(
        pk=released.voucher_id, status=Voucher.Status.AVAILABLE
    ).update(status=Voucher.Status.USED):
        logger.warning("voucher %s: a late payment used a voucher taken meanwhile", released.voucher_id)
    if released.promotion_id and not _reserve_counters(released.promotion, released.discount):
        # The customer paid the discounted total; the code's limits were reached meanwhile. Counted as
        # consumed (its cost is reported) but the counters cannot go past their limits.
        logger.warning("promotion %s: a late payment consumed a discount over its limits", released.promotion_id)
    return True


def redemption_release(booking) -> bool:
    """The booking ended without using the discount: the use and the budget go back (never below zero)."""
    redemption = Redemption.objects.filter(booking=booking, status__in=_TAKEN).first()
    if redemption is None:
        return False
    released = Redemption.objects.filter(pk=redemption.pk, status__in=_TAKEN).update(
        status=Redemption.Status.RELEASED, released_at=timezone.now()
    )
    if released and redemption.voucher_id:
        referrals.voucher_release(redemption.voucher_id)  # back to the customer for their next booking
    if released and redemption.promotion_id:
        Promotion.objects.filter(pk=redemption.promotion_id).update(
            uses_reserved=Greatest(F("uses_reserved") - 1, 0),
            budget_reserved=Greatest(F("budget_reserved") - redemption.discount, 0),
        )
    return bool(released)


def promotion_pause(*, promotion: Promotion, paused: bool = True, staff=None, reason: str = "") -> Promotion:
    """Pause (or resume) a code: a paused code is refused; bookings that already reserved it keep it. With
    `staff`, the decision is recorded with its reason (StaffDecision; a reason is then required)."""
    if staff is not None:
        reason = referrals.staff_reason(reason)
    with transaction.atomic():
        Promotion.objects.filter(pk=promotion.pk).update(paused=paused)
        if staff is not None:
            StaffDecision.objects.create(
                action=StaffDecision.Action.PAUSE if paused else StaffDecision.Action.RESUME,
                promotion=promotion,
                staff=staff,
                reason=reason,
                at=timezone.now(),
            )
    promotion.paused = paused
    return promotion


def discounted_price(*, profile, hours: int, discount: int, now: datetime | None = None) -> PriceSnapshot:
    """The price snapshot with `discount` (for previews that need every figure)."""
    price = booking_quote(profile=profile, hours=hours, now=now)
    return compute_price(
        hourly_rate=price.hourly_rate,
        hours=price.hours,
        commission_basis_points=price.commission_basis_points,
        discount=discount,
    )
