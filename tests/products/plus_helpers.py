"""Kompanion Plus in tests: a membership bought the real way minus the payment (purchase_open, then
purchase_paid inside the transaction that would book the money)."""

from datetime import datetime

from django.db import transaction

from products import services
from products.models import Package, Product, Purchase


def plus_package() -> Package:
    package, _created = Package.objects.get_or_create(
        product=Product.PLUS, days=30, price=49_000, defaults={"name": "Kompanion Plus 30 hari"}
    )
    return package


def plus_member(customer, *, at: datetime | None = None) -> Purchase:
    """`customer` holds a 30-day Plus pass paid at `at` (the real clock without it), starting then."""
    purchase = services.purchase_open(buyer=customer, package=plus_package(), method="gateway", now=at)
    with transaction.atomic():
        assert services.purchase_paid(purchase_id=purchase.pk, now=at)
    purchase.refresh_from_db()
    return purchase
