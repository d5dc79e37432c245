"""Demo promotions for `make run` (composed by web's seed_demo): a public code that works at once, and
one with a minimum subtotal to show a reason. Idempotent: codes already there are left as they are."""

from datetime import timedelta

from django.db.models.functions import Lower
from django.utils import timezone

from promotions.models import Promotion

PUBLIC_CODE = "KOMPANION15"
DEMO_CODES = (
    {
        "code": PUBLIC_CODE,
        "name": "Demo: public code",
        "kind": Promotion.Kind.PERCENT,
        "basis_points": 1500,
        "amount": 50_000,
        "budget": 10_000_000,
    },
    {
        "code": "HEMAT50",
        "name": "Demo: fixed Rp 50.000 from a Rp 500.000 subtotal",
        "kind": Promotion.Kind.FIXED,
        "basis_points": 0,
        "amount": 50_000,
        "minimum_subtotal": 500_000,
        "total_uses": 100,
    },
)


def seed_promotions(now=None) -> list[str]:
    """Creates the demo codes that are missing; returns every demo code."""
    now = now or timezone.now()
    for fields in DEMO_CODES:
        exists = Promotion.objects.alias(code_lower=Lower("code")).filter(code_lower=fields["code"].lower()).exists()
        if not exists:
            Promotion.objects.create(
                valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=365), **fields
            )
    return [fields["code"] for fields in DEMO_CODES]
