"""What products holds about a person (core/personal_data.py): their purchases of Sorotan and Kompanion Plus.
They are sales in the books, so the purge keeps them as they are: they name no one, and the buyer link points
at the pseudonymised account."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import iso
from core import personal_data
from products.models import Purchase


def export_purchases(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {
            "reference": purchase.reference,
            "product": purchase.product,
            "days": purchase.days,
            "price": purchase.price,
            "paid_with": purchase.method,
            "status": purchase.status,
            "created_at": iso(purchase.created_at),
            "paid_at": iso(purchase.paid_at),
            "starts_at": iso(purchase.starts_at),
            "ends_at": iso(purchase.ends_at),
            "refunded": purchase.refunded,
        }
        for purchase in Purchase.objects.filter(buyer=user).order_by("created_at", "pk")
    ]


def register() -> None:
    personal_data.register(
        "purchases",
        models=("products.Purchase",),
        export=export_purchases,
        purge=None,
        kept=_("Your purchases of Sorotan and Kompanion Plus stay in the books (10 years by tax law)."),
    )
