"""compute_price: whole Rupiah, integer maths only, rounding half up, and the snapshot adds up."""

import pytest

from bookings.pricing import PriceSnapshot, compute_price, percent_of


def test_a_plain_booking():
    price = compute_price(hourly_rate=150_000, hours=3, commission_basis_points=2000)
    assert price == PriceSnapshot(
        hourly_rate=150_000,
        hours=3,
        subtotal=450_000,
        service_fee=45_000,
        discount=0,
        total=495_000,
        commission_basis_points=2000,
        commission=90_000,
        companion_earnings=360_000,
    )
    assert price.platform_revenue == 45_000 + 90_000


@pytest.mark.parametrize(
    ("subtotal", "fee"),
    [
        (5, 1),  # 0.5 rounds up
        (4, 0),  # 0.4 rounds down
        (15, 2),  # 1.5 rounds up (half up, not half to even)
        (25, 3),  # 2.5 rounds up (banker's rounding would give 2)
        (24, 2),  # 2.4
        (26, 3),  # 2.6
        (125_005, 12_501),  # 12,500.5
        (125_004, 12_500),  # 12,500.4
    ],
)
def test_the_service_fee_is_ten_percent_rounded_half_up(subtotal, fee):
    price = compute_price(hourly_rate=subtotal, hours=1, commission_basis_points=0)
    assert price.service_fee == fee
    assert price.total == subtotal + fee


@pytest.mark.parametrize(
    ("subtotal", "basis_points", "commission"),
    [
        (100_000, 2000, 20_000),
        (12_345, 2000, 2_469),  # 2,469.0
        (12_347, 2000, 2_469),  # 2,469.4
        (12_348, 2000, 2_470),  # 2,469.6
        (10, 1250, 1),  # 1.25
        (12, 1250, 2),  # 1.5 rounds up
        (999, 0, 0),
        (999, 10_000, 999),
    ],
)
def test_commission_and_earnings(subtotal, basis_points, commission):
    price = compute_price(hourly_rate=subtotal, hours=1, commission_basis_points=basis_points)
    assert price.commission == commission
    assert price.companion_earnings == subtotal - commission


def test_total_is_subtotal_plus_fee_minus_discount():
    price = compute_price(hourly_rate=99_999, hours=7, commission_basis_points=2000, discount=12_345)
    assert price.subtotal == 699_993
    assert price.service_fee == 69_999  # 69,999.3
    assert price.total == 699_993 + 69_999 - 12_345
    assert price.platform_revenue == 69_999 + price.commission - 12_345
    # The whole discount is allowed (a free booking), never more.
    free = compute_price(hourly_rate=100, hours=1, commission_basis_points=2000, discount=110)
    assert free.total == 0


def test_only_integers_come_out():
    price = compute_price(hourly_rate=123_457, hours=11, commission_basis_points=1999)
    for value in (price.subtotal, price.service_fee, price.total, price.commission, price.companion_earnings):
        assert type(value) is int


def test_percent_of_is_integer_rounding_half_up():
    assert percent_of(1, 5000) == 1  # 0.5
    assert percent_of(3, 5000) == 2  # 1.5
    assert percent_of(10**15 + 5, 1000) == 10**14 + 1  # no float precision loss on big numbers


@pytest.mark.parametrize(
    "arguments",
    [
        {"hourly_rate": 0, "hours": 2, "commission_basis_points": 2000},
        {"hourly_rate": -1, "hours": 2, "commission_basis_points": 2000},
        {"hourly_rate": 100_000, "hours": 0, "commission_basis_points": 2000},
        {"hourly_rate": 100_000, "hours": -3, "commission_basis_points": 2000},
        {"hourly_rate": 100_000, "hours": 2, "commission_basis_points": -1},
        {"hourly_rate": 100_000, "hours": 2, "commission_basis_points": 10_001},
        {"hourly_rate": 100_000, "hours": 2, "commission_basis_points": 2000, "discount": -1},
        {"hourly_rate": 100_000, "hours": 2, "commission_basis_points": 2000, "discount": 220_001},
    ],
)
def test_bad_input_is_refused(arguments):
    with pytest.raises(ValueError):
        compute_price(**arguments)
