"""Referral rewards and vouchers under concurrency (PostgreSQL, real transactions): the yearly cap holds when
many friends' bookings qualify at the same instant (the referrer's link row serializes the count), and one
voucher is taken by one request only."""

from datetime import timedelta

import pytest

from promotions import referrals
from promotions.models import Redemption, Referral, Voucher
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.concurrency import at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]


@pytest.fixture(autouse=True)
def programme(referral_programme, settings):
    settings.LOCK_TIMEOUT_MS = 10_000
    settings.REFERRAL_REWARDS_PER_YEAR = 2
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 0


def verified_customer():
    customer = new_customer()
    customer.phone_verified_at = NOW - timedelta(days=1)
    customer.save(update_fields=["phone_verified_at"])
    return customer


def test_five_rewards_due_at_once_with_two_left_in_the_year_make_exactly_two():
    referrer = verified_customer()
    code = referrals.referral_code_for(referrer).code
    due = []
    for _ in range(5):
        referral = referrals.referral_capture(user=verified_customer(), code=code, address="", now=NOW)
        Referral.objects.filter(pk=referral.pk).update(qualified_at=NOW)
        due.append(referral.pk)
    errors = at_once(*(lambda pk=pk: referrals.referral_reward_try(referral_id=pk, now=NOW) for pk in due))
    assert errors == []
    statuses = sorted(Referral.objects.filter(pk__in=due).values_list("status", flat=True))
    assert statuses == ["capped"] * 3 + ["rewarded"] * 2
    assert Voucher.objects.filter(owner=referrer).count() == 2


def test_one_voucher_two_requests_at_once_one_discount():
    owner = verified_customer()
    code = referrals.referral_code_for(owner).code
    referral = referrals.referral_capture(user=verified_customer(), code=code, address="", now=NOW)
    Referral.objects.filter(pk=referral.pk).update(qualified_at=NOW)
    assert referrals.referral_reward_try(referral_id=referral.pk, now=NOW) == "rewarded"
    plans = [(make_companion(name="Ayu"), START), (make_companion(name="Bunga"), START + timedelta(days=1))]
    made = []
    errors = at_once(*(lambda p=p, s=s: made.append(request(owner, p, s)) for p, s in plans), timeout=60)
    # The customer's own requests are serialized (one may be told to try again); never two discounts.
    assert len(made) + len(errors) == 2, errors
    assert all(type(error).__name__ == "BookingBusy" for error in errors), errors
    assert sum(booking.discount for booking in made) == 50_000
    assert Redemption.objects.filter(source="voucher").count() == 1
    assert Voucher.objects.get(owner=owner).status == "reserved"
