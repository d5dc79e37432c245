"""Who has what now: the companions promoted in search and the customers who are Plus members.

A period is [starts_at, ends_at) of a paid purchase; a refund of the unused part ends it at the refund."""

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from products.models import Product, Purchase

LIVE = (Purchase.Status.PAID, Purchase.Status.REFUNDED)


def running(product: str, now: datetime | None = None) -> QuerySet[Purchase]:
    now = now or timezone.now()
    return Purchase.objects.filter(product=product, status__in=LIVE, starts_at__lte=now, ends_at__gt=now)


def promoted_profile_ids(now: datetime | None = None) -> set[int]:
    """The companions whose Sorotan runs at `now` (one indexed query)."""
    return set(running(Product.SOROTAN, now).values_list("profile_id", flat=True))


def plus_membership(user, now: datetime | None = None) -> Purchase | None:
    """The Plus pass that covers `now` for this person, if any."""
    if getattr(user, "pk", None) is None:
        return None
    return running(Product.PLUS, now).filter(buyer=user).order_by("starts_at").first()


def is_plus_member(user, now: datetime | None = None) -> bool:
    return plus_membership(user, now) is not None


def plus_member_ids(user_ids, now: datetime | None = None) -> set[int]:
    """Which of these people are Plus members at `now` (one query; for badges on lists of requests)."""
    ids = [pk for pk in user_ids if pk]
    if not ids:
        return set()
    return set(running(Product.PLUS, now).filter(buyer_id__in=ids).values_list("buyer_id", flat=True))


def period_end(*, buyer, product: str, profile=None) -> datetime | None:
    """Where the person's last paid period of this product ends (a new one starts there)."""
    periods = Purchase.objects.filter(product=product, status__in=LIVE, buyer=buyer)
    if profile is not None:
        periods = periods.filter(profile=profile)
    last = periods.order_by("-ends_at").values_list("ends_at", flat=True).first()
    return last
