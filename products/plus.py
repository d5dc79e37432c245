"""Kompanion Plus perks (issue 17): what a member gets, given to the layers below through their registries.

- Half the service fee off, platform-paid (`member_discount`, bookings/hooks.py): taken first, then promotions'
  part (a code, a voucher or the welcome discount) stacks on what remains, both within
  promotions.services.cap_discount (fee + commission, the minimum total), so the companion's share never
  changes. The member part is recorded per booking (MemberSaving); the booking's `discount` is the sum.
- Free cancellation up to 12 hours before the start instead of 24 (`free_cancellation_notice`,
  bookings/policy.py asks it): for a booking requested while a member, or cancelled while one.
- Early access to companions in their first 48 hours (`sees_new`, companions/early_access.py).
- The badge companions see on requests (products.selectors.plus_member_ids, one query for a list).
- What Plus saved the member so far (`plus_savings`), for the Plus page.

Member: `products.selectors.is_plus_member(user, now)`; only customers can be (no query for anyone else)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, Sum

from accounts.models import Role
from products.models import MemberSaving
from products.selectors import is_plus_member, plus_member_ids
from promotions.services import cap_discount

PLUS_FREE_CANCELLATION_NOTICE = timedelta(hours=12)


def is_member(user, now: datetime) -> bool:
    """A Plus member at `now`: one query for a signed-in customer, none for anyone else."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "role", None) != Role.CUSTOMER:
        return False
    return is_plus_member(user, now)


def member_part(price) -> int:
    """Half the service fee (rounded down), within what the platform's share and the minimum total allow."""
    return cap_discount(price.service_fee // 2, price)


@dataclass(frozen=True)
class MemberDiscount:
    """The member part of a request being created (bookings/hooks.py `member_discount`)."""

    discount: int
    now: datetime

    def attach(self, booking) -> MemberSaving:
        return MemberSaving.objects.create(booking=booking, amount=self.discount, created_at=self.now)


def member_discount(*, customer, price, now: datetime) -> MemberDiscount | None:
    """bookings/hooks.py `member_discount`: half the service fee for a member at `now`, else None."""
    if not is_member(customer, now):
        return None
    amount = member_part(price)
    return MemberDiscount(amount, now) if amount > 0 else None


def free_cancellation_notice(*, customer, booked_at: datetime, now: datetime) -> timedelta | None:
    """bookings/hooks.py `free_cancellation_notice`: 12 hours for a booking requested by a member (the terms
    shown when booking hold to the end) or cancelled by one; None (the policy's 24 hours) otherwise."""
    if is_member(customer, now) or (booked_at != now and is_member(customer, booked_at)):
        return PLUS_FREE_CANCELLATION_NOTICE
    return None


def plus_savings(user) -> int:
    """What Plus saved `user` so far, in Rupiah: the member parts of their bookings that were paid and not
    fully refunded (a booking requested but never paid, or cancelled with everything back, saved nothing)."""
    if getattr(user, "pk", None) is None:
        return 0
    kept = Q(booking__refund_amount__isnull=True) | Q(booking__refund_amount__lt=F("booking__total"))
    saved = MemberSaving.objects.filter(kept, booking__customer=user, booking__paid_at__isnull=False).aggregate(
        total=Sum("amount")
    )
    return saved["total"] or 0


def register() -> None:
    """Called once from ProductsConfig.ready(): the perks reach bookings and companions through their
    registries (they may not import products)."""
    from bookings import hooks
    from companions import early_access

    hooks.register(member_discount=member_discount, free_cancellation_notice=free_cancellation_notice)
    hooks.register(member_ids=plus_member_ids)
    early_access.register(member=is_member)
