"""The cancellation policy: pure functions, shown before booking and before cancelling, and used to
settle the money (payments turns the settlement into refunds and ledger entries).

`cancellation_tiers` says which lines of the policy still lie ahead; `settle_cancellation` picks its
line from the same function, so what the pages show and what the refund is can never disagree.

The full-refund boundary is a parameter (`full_refund_notice`, 24 hours by default): a customer may have a
shorter one (Kompanion Plus: 12 hours), asked through bookings/hooks.py by `customer_full_refund_notice`."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookings import hooks
from bookings.pricing import percent_of

FULL_REFUND_NOTICE = timedelta(hours=24)
PARTIAL_REFUND_NOTICE = timedelta(hours=2)


class CancelledBy:
    CUSTOMER = "customer"
    COMPANION = "companion"
    STAFF = "staff"  # staff suspended or banned a party (safety/moderation.py): everything back


def cancelled_by(booking, user) -> str:
    """Who cancels, for the policy: the booking's companion, otherwise the customer."""
    return CancelledBy.COMPANION if user is not None and booking.companion.user_id == user.pk else CancelledBy.CUSTOMER


class Rule:
    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"
    COMPANION = "companion"
    SAFETY = "safety"  # cancelled for safety (a report, or staff): everything back


@dataclass(frozen=True)
class Tier:
    """One line of the customer's policy: `rule` applies until `until` (inclusive); None: from then on,
    including a no-show."""

    rule: str
    until: datetime | None


def customer_full_refund_notice(customer, *, booked_at: datetime, now: datetime) -> timedelta:
    """How long before the start this customer's cancellation gets everything back: the customer's own notice
    (a membership, through bookings/hooks.py) when there is one, else FULL_REFUND_NOTICE. `booked_at`: when the
    booking was (or would be) requested; a perk held then or now counts."""
    notice = hooks.free_cancellation_notice(customer=customer, booked_at=booked_at, now=now)
    return FULL_REFUND_NOTICE if notice is None else notice


def booking_full_refund_notice(booking, *, now: datetime) -> timedelta:
    return customer_full_refund_notice(booking.customer, booked_at=booking.created_at, now=now)


def cancellation_tiers(
    *, start: datetime, now: datetime, full_refund_notice: timedelta = FULL_REFUND_NOTICE
) -> list[Tier]:
    """The lines of the customer's policy still ahead at `now`, in order; the first applies now."""
    tiers = [
        Tier(Rule.FULL, start - full_refund_notice),
        Tier(Rule.PARTIAL, start - PARTIAL_REFUND_NOTICE),
        Tier(Rule.NONE, None),
    ]
    return [tier for tier in tiers if tier.until is None or now <= tier.until]


@dataclass(frozen=True)
class Settlement:
    """Where a cancelled booking's money goes; the three parts add up to the total paid."""

    refund: int  # back to the customer
    companion_earnings: int  # owed to the companion
    platform_revenue: int  # kept by the platform
    rule: str  # "full", "partial", "none", "companion" — the line of the policy that applied

    @property
    def refund_percent(self) -> int:
        total = self.refund + self.companion_earnings + self.platform_revenue
        return round(self.refund * 100 / total) if total else 0


def settle_cancellation(
    *,
    total: int,
    subtotal: int,
    service_fee: int,
    commission_basis_points: int,
    start: datetime,
    cancelled_at: datetime,
    cancelled_by: str,
    for_safety: bool = False,
    full_refund_notice: timedelta = FULL_REFUND_NOTICE,
) -> Settlement:
    """Customer ≥ `full_refund_notice` (24 h, or the customer's own: 12 h for Kompanion Plus) before the start:
    everything back. Between that and 2 h: the service fee and
    half the subtotal back; the companion earns the other half (less the platform's commission).
    Under 2 h (or a no-show): nothing back. A companion who cancels: everything back. Cancelled for
    safety (the customer reporting the companion, or staff suspending either party): everything back."""
    if cancelled_by == CancelledBy.COMPANION:
        return Settlement(refund=total, companion_earnings=0, platform_revenue=0, rule=Rule.COMPANION)
    if for_safety or cancelled_by == CancelledBy.STAFF:
        return Settlement(refund=total, companion_earnings=0, platform_revenue=0, rule=Rule.SAFETY)
    rule = cancellation_tiers(start=start, now=cancelled_at, full_refund_notice=full_refund_notice)[0].rule
    if rule == Rule.FULL:
        return Settlement(refund=total, companion_earnings=0, platform_revenue=0, rule=Rule.FULL)
    if rule == Rule.PARTIAL:
        kept = subtotal - subtotal // 2  # the companion's half (the odd Rupiah goes to them)
        refund = max(0, total - kept)
        earnings = min(kept - percent_of(kept, commission_basis_points), total - refund)
        return Settlement(
            refund=refund, companion_earnings=earnings, platform_revenue=total - refund - earnings, rule=Rule.PARTIAL
        )
    # Too late: nothing back. A discount (paid for by the platform) never eats into the companion's share.
    earnings = min(subtotal - percent_of(subtotal, commission_basis_points), total)
    return Settlement(refund=0, companion_earnings=earnings, platform_revenue=total - earnings, rule=Rule.NONE)


def cancellation_preview(booking, *, by: str, now: datetime, for_safety: bool = False) -> Settlement:
    """What cancelling `booking` at `now` would settle (the same function the cancellation uses), with the
    customer's own full-refund notice."""
    return settle_cancellation(
        for_safety=for_safety,
        full_refund_notice=(
            booking_full_refund_notice(booking, now=now)
            if by == CancelledBy.CUSTOMER and not for_safety
            else FULL_REFUND_NOTICE
        ),
        total=booking.total,
        subtotal=booking.subtotal,
        service_fee=booking.service_fee,
        commission_basis_points=booking.commission_basis_points,
        start=booking.start,
        cancelled_at=now,
        cancelled_by=by,
    )
