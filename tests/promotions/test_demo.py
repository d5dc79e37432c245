"""The demo's public code works on the real clock for a new customer, and seeding twice adds nothing."""

import pytest
from django.utils import timezone

from companions.models import Activity
from promotions import demo, services
from promotions.models import Promotion
from tests.bookings.helpers import START, make_companion, new_customer

pytestmark = pytest.mark.django_db


def test_the_public_demo_code_works_and_seeding_is_idempotent():
    assert demo.seed_promotions() == ["KOMPANION15", "HEMAT50"]
    demo.seed_promotions()
    assert Promotion.objects.count() == 2
    now = timezone.now()
    found = services.quote(
        customer=new_customer(),
        profile=make_companion(),
        activity=Activity.objects.get(slug="hangout"),
        start=max(START, now),
        hours=2,
        code="kompanion15",
        now=now,
    )
    assert (found.reason, found.discount, found.source) == (None, 45_000, "code")
