"""What promotions cost and brought (the admin's report).

Why a selector and not a ledger account: the ledger books a completed booking's platform revenue net of
its discount (fee + commission - discount, payments/settlement.py), and the discount is frozen on the
booking. A consumed redemption is one-to-one with its booking, so the sum of consumed redemptions is the
exact revenue each promotion gave up, reconcilable with the bookings' journals, without adding a contra
account to every settlement journal (which the ledger tests and the refund split would all have to follow)."""

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from promotions.models import Promotion, Redemption


def promotion_cost(promotion: Promotion) -> int:
    """Rupiah the platform gave up for this promotion: the sum of its consumed (paid) discounts."""
    return Redemption.objects.filter(promotion=promotion, status=Redemption.Status.CONSUMED).aggregate(
        total=Coalesce(Sum("discount"), 0)
    )["total"]


def welcome_cost() -> int:
    """Rupiah the welcome discount cost (consumed welcome redemptions)."""
    return Redemption.objects.filter(source=Redemption.Source.WELCOME, status=Redemption.Status.CONSUMED).aggregate(
        total=Coalesce(Sum("discount"), 0)
    )["total"]


def promotions_with_figures() -> QuerySet[Promotion]:
    """Each promotion with `cost` (consumed discounts), `consumed`, `reserved` and `released` counts."""
    consumed = Q(redemptions__status=Redemption.Status.CONSUMED)
    return Promotion.objects.annotate(
        cost=Coalesce(Sum("redemptions__discount", filter=consumed), 0),
        consumed=Count("redemptions", filter=consumed),
        reserved=Count("redemptions", filter=Q(redemptions__status=Redemption.Status.RESERVED)),
        released=Count("redemptions", filter=Q(redemptions__status=Redemption.Status.RELEASED)),
    )
