"""The cancellation policy at its boundaries: exactly 24 h and exactly 2 h before the start, in UTC,
WIB and WITA (the same instant must give the same answer whatever zone it is written in)."""

from datetime import datetime, timedelta

import pytest

from bookings.policy import CancelledBy, Settlement, settle_cancellation
from bookings.pricing import compute_price
from tests.bookings.helpers import UTC, WIB, WITA

PRICE = compute_price(hourly_rate=150_001, hours=3, commission_basis_points=2000)  # odd subtotal on purpose
START = datetime(2026, 12, 5, 12, 0, tzinfo=WIB)  # 05:00 UTC, 13:00 WITA
SECOND = timedelta(seconds=1)


def settle(cancelled_at, *, by=CancelledBy.CUSTOMER, price=PRICE, start=START):
    return settle_cancellation(
        total=price.total,
        subtotal=price.subtotal,
        service_fee=price.service_fee,
        commission_basis_points=price.commission_basis_points,
        start=start,
        cancelled_at=cancelled_at,
        cancelled_by=by,
    )


def test_the_price_used_here():
    assert (PRICE.subtotal, PRICE.service_fee, PRICE.total) == (450_003, 45_000, 495_003)


FULL = Settlement(refund=495_003, companion_earnings=0, platform_revenue=0, rule="full")
# The companion keeps the larger half of the subtotal (225,002), less 20% commission (45,000.4 → 45,000).
PARTIAL = Settlement(
    refund=495_003 - 225_002, companion_earnings=225_002 - 45_000, platform_revenue=45_000, rule="partial"
)
# No refund: the companion earns the subtotal less commission (90,000.6 → 90,001); the platform keeps fee + commission.
NONE = Settlement(refund=0, companion_earnings=450_003 - 90_001, platform_revenue=45_000 + 90_001, rule="none")


@pytest.mark.parametrize(
    ("before_start", "expected"),
    [
        (timedelta(days=10), FULL),
        (timedelta(hours=24), FULL),  # exactly 24 h: still full
        (timedelta(hours=24) - SECOND, PARTIAL),
        (timedelta(hours=5), PARTIAL),
        (timedelta(hours=2), PARTIAL),  # exactly 2 h: still partial
        (timedelta(hours=2) - SECOND, NONE),
        (timedelta(0), NONE),
        (-timedelta(hours=1), NONE),  # after the start (a no-show)
    ],
)
@pytest.mark.parametrize("zone", [UTC, WIB, WITA])
def test_customer_cancels(before_start, expected, zone):
    cancelled_at = (START - before_start).astimezone(zone)
    settlement = settle(cancelled_at)
    assert settlement == expected
    assert settlement.refund + settlement.companion_earnings + settlement.platform_revenue == PRICE.total


def test_the_start_written_in_another_zone_changes_nothing():
    at = START - timedelta(hours=2)
    for start_zone in (UTC, WIB, WITA):
        for cancel_zone in (UTC, WIB, WITA):
            assert settle(at.astimezone(cancel_zone), start=START.astimezone(start_zone)) == PARTIAL


def test_the_boundaries_written_in_wib_and_wita():
    # The start is 12:00 WIB = 13:00 WITA on 5 December.
    assert settle(datetime(2026, 12, 4, 12, 0, tzinfo=WIB)) == FULL  # exactly 24 h
    assert settle(datetime(2026, 12, 4, 13, 0, tzinfo=WITA)) == FULL  # the same instant
    assert settle(datetime(2026, 12, 4, 13, 0, 1, tzinfo=WITA)) == PARTIAL  # 24 h - 1 s
    assert settle(datetime(2026, 12, 5, 10, 0, tzinfo=WIB)) == PARTIAL  # exactly 2 h
    assert settle(datetime(2026, 12, 5, 11, 0, tzinfo=WITA)) == PARTIAL  # the same instant
    assert settle(datetime(2026, 12, 5, 11, 0, 1, tzinfo=WITA)) == NONE  # 2 h - 1 s
    # The same wall-clock reading in the other zone is another instant: 11:00 WIB is 1 h before.
    assert settle(datetime(2026, 12, 5, 11, 0, tzinfo=WIB)) == NONE


@pytest.mark.parametrize(
    "before_start", [timedelta(days=3), timedelta(hours=3), timedelta(minutes=5), -timedelta(hours=1)]
)
def test_a_companion_who_cancels_refunds_everything(before_start):
    settlement = settle(START - before_start, by=CancelledBy.COMPANION)
    assert settlement == Settlement(refund=PRICE.total, companion_earnings=0, platform_revenue=0, rule="companion")
    assert settlement.refund_percent == 100


def test_refund_percent():
    assert settle(START - timedelta(days=2)).refund_percent == 100
    assert settle(START - timedelta(hours=3)).refund_percent == round(270_001 * 100 / 495_003)  # 55
    assert settle(START).refund_percent == 0


@pytest.mark.parametrize("rate", [1, 3, 99_999, 150_001, 2_000_000])
@pytest.mark.parametrize("hours", [1, 2, 5])
@pytest.mark.parametrize("before_start", [timedelta(days=2), timedelta(hours=3), timedelta(minutes=30)])
def test_the_parts_always_add_up_to_the_total(rate, hours, before_start):
    price = compute_price(hourly_rate=rate, hours=hours, commission_basis_points=2000)
    for by in (CancelledBy.CUSTOMER, CancelledBy.COMPANION):
        settlement = settle(START - before_start, by=by, price=price)
        assert settlement.refund + settlement.companion_earnings + settlement.platform_revenue == price.total
        assert min(settlement.refund, settlement.companion_earnings, settlement.platform_revenue) >= 0


def test_a_large_discount_never_gives_a_negative_refund():
    price = compute_price(hourly_rate=100_000, hours=2, commission_basis_points=2000, discount=200_000)
    settlement = settle(START - timedelta(hours=3), price=price)
    assert settlement.refund >= 0
