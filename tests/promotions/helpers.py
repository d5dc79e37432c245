"""Promotions in tests: a code with the given rules (on the fixed clock of tests/bookings/helpers.py)."""

from datetime import timedelta

from promotions.models import Promotion
from tests.bookings.helpers import NOW


def promotion(code="HEMAT15", **fields) -> Promotion:
    """15% up to Rp 50.000 by default, valid around NOW, one use per customer, no total limits."""
    defaults = {
        "kind": Promotion.Kind.PERCENT,
        "basis_points": 1500,
        "amount": 50_000,
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=30),
    }
    return Promotion.objects.create(code=code, **{**defaults, **fields})
