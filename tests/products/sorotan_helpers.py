"""Sorotan for the search and statistics tests: a promotion bought through the real services (the payment
itself left out: purchase_paid is what payments calls once the money is booked), and a movable clock."""

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking
from companions.models import Activity
from products import services
from products.models import Package, Product, Purchase
from tests.bookings.helpers import MEETING_PLACE


def promote(profile, *, paid_at: datetime, days: int = 7) -> Purchase:
    """The companion buys a `days`-day Sorotan, paid at `paid_at` (it runs from then, or after their last)."""
    package = Package.objects.create(product=Product.SOROTAN, name=f"Sorotan {days} hari", days=days, price=49_000)
    purchase = services.purchase_open(
        buyer=profile.user, package=package, method=Purchase.Method.GATEWAY, now=paid_at - timedelta(minutes=1)
    )
    with transaction.atomic():
        assert services.purchase_paid(purchase_id=purchase.pk, now=paid_at)
    purchase.refresh_from_db()
    return purchase


def confirmed(profile, customer, *, start: datetime, hours: int = 2, asked: datetime, paid: datetime) -> Booking:
    """A booking requested at `asked`, accepted a minute before `paid` and paid then (confirmed)."""
    booking = booking_services.booking_request(
        customer=customer,
        profile=profile,
        start=start,
        hours=hours,
        activity=Activity.objects.get(slug="hangout"),
        meeting_place=MEETING_PLACE,
        now=asked,
    )
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=paid - timedelta(minutes=1))
    booking_services.booking_mark_paid(booking_id=booking.pk, now=paid)
    return booking


class Clock:
    """timezone.now() for the views and selectors, moved by the test."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def move(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(monkeypatch):
    from tests.bookings.helpers import NOW

    found = Clock(NOW)
    monkeypatch.setattr(timezone, "now", found)
    return found
