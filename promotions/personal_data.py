"""What promotions holds about a person (issue 15's registry, core/personal_data.py): the discounts their
bookings received (a promo code or the welcome discount). They are part of the booking's money, so the purge
keeps them as they are: they name no one, and the customer link points at the pseudonymised account."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import iso
from core import personal_data
from promotions.models import Redemption


def export_redemptions(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    redemptions = (
        Redemption.objects.filter(customer=user).select_related("promotion", "booking").order_by("reserved_at", "pk")
    )
    return [
        {
            "booking": redemption.booking.reference,
            "code": redemption.promotion.code if redemption.promotion_id else "",
            "source": redemption.source,
            "discount": redemption.discount,
            "status": redemption.status,
            "reserved_at": iso(redemption.reserved_at),
            "consumed_at": iso(redemption.consumed_at),
            "released_at": iso(redemption.released_at),
        }
        for redemption in redemptions
    ]


def register() -> None:
    personal_data.register(
        "discounts",
        models=("promotions.Redemption",),
        export=export_redemptions,
        purge=None,
        kept=_("The discounts your bookings received stay with those bookings in the books (10 years by tax law)."),
    )
