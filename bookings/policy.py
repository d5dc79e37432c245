"""The cancellation policy: one pure function, shown before booking and before cancelling, and used
to settle the money (the payments issue turns its result into refunds and ledger entries)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookings.pricing import percent_of

FULL_REFUND_NOTICE = timedelta(hours=24)
PARTIAL_REFUND_NOTICE = timedelta(hours=2)


class CancelledBy:
    CUSTOMER = "customer"
    COMPANION = "companion"


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
) -> Settlement:
    """Customer ≥ 24 h before the start: everything back. Between 24 h and 2 h: the service fee and
    half the subtotal back; the companion earns the other half (less the platform's commission).
    Under 2 h (or a no-show): nothing back. A companion who cancels: everything back."""
    if cancelled_by == CancelledBy.COMPANION:
        return Settlement(refund=total, companion_earnings=0, platform_revenue=0, rule="companion")
    notice = start - cancelled_at
    if notice >= FULL_REFUND_NOTICE:
        return Settlement(refund=total, companion_earnings=0, platform_revenue=0, rule="full")
    if notice >= PARTIAL_REFUND_NOTICE:
        kept = subtotal - subtotal // 2  # the companion's half (the odd Rupiah goes to them)
        refund = max(0, total - kept)
        earnings = min(kept - percent_of(kept, commission_basis_points), total - refund)
        return Settlement(
            refund=refund, companion_earnings=earnings, platform_revenue=total - refund - earnings, rule="partial"
        )
    # Too late: nothing back. A discount (paid for by the platform) never eats into the companion's share.
    earnings = min(subtotal - percent_of(subtotal, commission_basis_points), total)
    return Settlement(refund=0, companion_earnings=earnings, platform_revenue=total - earnings, rule="none")
