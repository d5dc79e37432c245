"""Money for a booking, in whole Rupiah (integers only). One pure function computes the price; the
booking stores the result as a frozen snapshot and everything else reads the snapshot."""

from dataclasses import dataclass
from datetime import datetime

from bookings import hooks
from companions import levels
from core.money import BASIS_POINTS, percent_of

SERVICE_FEE_BASIS_POINTS = 1000  # 10% of the subtotal, paid by the customer on top


@dataclass(frozen=True)
class PriceSnapshot:
    hourly_rate: int
    hours: int
    subtotal: int
    service_fee: int
    discount: int
    total: int
    commission_basis_points: int
    commission: int
    companion_earnings: int

    @property
    def platform_revenue(self) -> int:
        """What the platform keeps when the booking completes: fee + commission − discount."""
        return self.service_fee + self.commission - self.discount


def compute_price(*, hourly_rate: int, hours: int, commission_basis_points: int, discount: int = 0) -> PriceSnapshot:
    if hourly_rate <= 0 or hours <= 0:
        raise ValueError("rate and hours must be positive")
    if not 0 <= commission_basis_points <= BASIS_POINTS:
        raise ValueError("commission must be between 0% and 100%")
    subtotal = hourly_rate * hours
    service_fee = percent_of(subtotal, SERVICE_FEE_BASIS_POINTS)
    if not 0 <= discount <= service_fee + subtotal:
        raise ValueError("discount out of range")
    commission = percent_of(subtotal, commission_basis_points)
    return PriceSnapshot(
        hourly_rate=hourly_rate,
        hours=hours,
        subtotal=subtotal,
        service_fee=service_fee,
        discount=discount,
        total=subtotal + service_fee - discount,
        commission_basis_points=commission_basis_points,
        commission=commission,
        companion_earnings=subtotal - commission,
    )


def with_discount(price: PriceSnapshot, discount: int) -> PriceSnapshot:
    """The same price with `discount` (the whole discount: the membership part plus promotions' part)."""
    return compute_price(
        hourly_rate=price.hourly_rate,
        hours=price.hours,
        commission_basis_points=price.commission_basis_points,
        discount=discount,
    )


def commission_basis_points(profile, now: datetime | None = None) -> int:
    """The platform's share of the subtotal: what the companion's level pays under the level policy in
    effect on `now`'s day (companions.levels), less a referral reward's cut active at `now` (bookings/hooks.py),
    frozen into the booking when it is created."""
    level = levels.commission_basis_points(profile.level, levels.today_wib(now))
    return max(0, level - hooks.commission_cut(profile=profile, now=now))


def booking_quote(*, profile, hours: int, now: datetime | None = None) -> PriceSnapshot:
    """The price of `hours` with this companion now (the booking freezes it at request time)."""
    return compute_price(
        hourly_rate=profile.hourly_rate, hours=hours, commission_basis_points=commission_basis_points(profile, now)
    )
