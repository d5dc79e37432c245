"""Every rule of a promo code and the welcome discount, with its reason; the money rule (the discount comes
out of the platform's part only); the code-check rate limit."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import translation

from bookings import services as booking_services
from bookings.errors import BookingError
from bookings.models import BookingStatus
from companions.models import Activity, City
from promotions import services
from promotions.models import Promotion, Redemption
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request, world
from tests.promotions.helpers import promotion

pytestmark = pytest.mark.django_db

# 2 h at Rp 150.000: subtotal 300.000, service fee 30.000, commission (20%) 60.000.


def quote(customer, profile, code, hours=2, activity="hangout", now=NOW):
    return services.quote(
        customer=customer,
        profile=profile,
        activity=Activity.objects.get(slug=activity),
        start=START,
        hours=hours,
        code=code,
        now=now,
    )


@pytest.fixture
def profile():
    return make_companion()


def test_a_valid_code_gives_its_discount_and_the_new_total(profile):
    promotion()
    found = quote(new_customer(), profile, "HEMAT15")
    assert (found.subtotal, found.service_fee, found.discount, found.total) == (300_000, 30_000, 45_000, 285_000)
    assert (found.source, found.reason, found.label) == ("code", None, "HEMAT15 (15%)")


def test_codes_are_case_insensitive_trimmed_and_unique_whatever_the_case(profile):
    promotion(code=" Hemat15 ")
    assert Promotion.objects.get().code == "Hemat15"
    assert quote(new_customer(), profile, "  hemat15\t").discount == 45_000
    with pytest.raises(IntegrityError):
        promotion(code="HEMAT15")


def test_the_percentage_is_capped_in_rupiah_and_a_fixed_amount_is_taken_as_it_is(profile):
    promotion(code="CAP", basis_points=5000, amount=20_000)
    promotion(code="FIX", kind=Promotion.Kind.FIXED, basis_points=0, amount=25_000)
    customer = new_customer()
    assert quote(customer, profile, "CAP").discount == 20_000
    assert quote(customer, profile, "FIX").discount == 25_000


def test_a_discount_never_exceeds_the_platforms_part_nor_goes_below_the_minimum_charge(profile, settings):
    promotion(code="BIG", kind=Promotion.Kind.FIXED, basis_points=0, amount=1_000_000)
    customer = new_customer()
    assert quote(customer, profile, "BIG").discount == 30_000 + 60_000  # fee + commission
    settings.PROMOTION_MINIMUM_TOTAL = 320_000
    found = quote(customer, profile, "BIG")
    assert (found.discount, found.total) == (10_000, 320_000)


def test_the_companion_earns_the_same_with_or_without_a_discount(profile):
    promotion(code="BIG", kind=Promotion.Kind.FIXED, basis_points=0, amount=1_000_000)
    plain = request(new_customer(), profile, START)
    discounted = request(new_customer(), profile, START + timedelta(days=1), promo_code="big")
    assert discounted.discount == 90_000 and plain.discount == 0
    assert discounted.total == plain.total - 90_000
    assert (discounted.commission, discounted.companion_earnings) == (plain.commission, plain.companion_earnings)
    assert discounted.companion_earnings == 240_000


REASONS = [
    ({"paused": True}, "This code is paused right now."),
    ({"valid_from": NOW + timedelta(hours=1)}, "This code is not valid yet."),
    ({"valid_until": NOW}, "This code has expired."),
    ({"minimum_subtotal": 400_000}, "This code needs a subtotal of at least Rp\u00a0400,000."),
    ({"total_uses": 0}, "This code has been used up."),
    ({"budget": 44_999}, "This code's budget is used up."),
]


@pytest.mark.parametrize(("fields", "reason"), REASONS)
def test_each_rule_says_why_the_code_does_not_apply(profile, fields, reason):
    promotion(**fields)
    found = quote(new_customer(), profile, "HEMAT15")
    assert (found.reason, found.discount, found.total, found.source) == (reason, 0, 330_000, None)


def test_an_unknown_code_gets_the_same_message_whatever_exists(profile):
    promotion()
    customer = new_customer()
    messages = {quote(customer, profile, code).reason for code in ("HEMAT16", "X", "HEMAT15X", "hemat 15")}
    assert messages == {"This code is not valid."}


def test_cities_and_activities(profile):
    elsewhere = City.objects.exclude(pk=profile.city_id).first()
    in_bali = promotion(code="BALI")
    in_bali.cities.set([elsewhere])
    culinary = promotion(code="KULINER")
    culinary.activities.set([Activity.objects.get(slug="culinary")])
    customer = new_customer()
    assert quote(customer, profile, "BALI").reason == "This code does not apply in this companion's city."
    assert quote(customer, profile, "KULINER").reason == "This code does not apply to this activity."
    assert quote(customer, profile, "KULINER", activity="culinary").discount == 45_000
    in_bali.cities.add(profile.city)
    assert quote(customer, profile, "BALI").discount == 45_000


def test_first_booking_only(profile):
    promotion(first_booking_only=True)
    customer = new_customer()
    assert quote(customer, profile, "HEMAT15").discount == 45_000
    request(customer, profile, START)
    assert quote(customer, profile, "HEMAT15").reason == "This code is only for your first booking."


def test_a_declined_request_does_not_make_a_customer_old(profile):
    promotion(first_booking_only=True)
    customer = new_customer()
    booking = request(customer, profile, START)
    booking_services.booking_decline(booking_id=booking.pk, actor=profile.user, now=NOW)
    assert quote(customer, profile, "HEMAT15").reason is None


def test_new_customers_only(profile):
    promotion(new_customer_days=30)
    fresh, old = new_customer(), new_customer()
    type(old).objects.filter(pk=old.pk).update(date_joined=NOW - timedelta(days=31))
    old.refresh_from_db()
    assert quote(fresh, profile, "HEMAT15").reason is None
    assert quote(old, profile, "HEMAT15").reason == "This code is only for customers who signed up in the last 30 days."


def test_uses_per_customer(profile):
    promotion(uses_per_customer=2)
    customer = new_customer()
    request(customer, profile, START, promo_code="HEMAT15")
    assert quote(customer, profile, "HEMAT15").reason is None
    request(customer, profile, START + timedelta(days=1), promo_code="HEMAT15")
    assert quote(customer, profile, "HEMAT15").reason == "You have already used this code."
    assert quote(new_customer(), profile, "HEMAT15").reason is None


def test_a_refused_code_refuses_the_request_on_its_field_and_writes_nothing(profile):
    promotion(valid_until=NOW)
    before = world()
    with pytest.raises(BookingError) as refused:
        request(new_customer(), profile, START, promo_code="HEMAT15")
    assert (refused.value.field, refused.value.message) == ("promo_code", "This code has expired.")
    assert world() == before and not Redemption.objects.exists()
    assert Promotion.objects.get().uses_reserved == 0


def test_the_request_freezes_the_discount_and_reserves_it(profile):
    code = promotion(budget=1_000_000)
    booking = request(new_customer(), profile, START, promo_code="hemat15")
    assert (booking.discount, booking.total) == (45_000, 285_000)
    redemption = Redemption.objects.get()
    assert (redemption.booking, redemption.status, redemption.discount) == (booking, "reserved", 45_000)
    code.refresh_from_db()
    assert (code.uses_reserved, code.budget_reserved) == (1, 45_000)


def test_the_welcome_discount_goes_to_a_first_booking_only(profile, settings):
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1500
    settings.WELCOME_DISCOUNT_CAP = 40_000
    customer = new_customer()
    found = quote(customer, profile, "")
    assert (found.discount, found.source, found.label) == (40_000, "welcome", "Welcome discount (15%)")
    first = request(customer, profile, START)
    assert first.discount == 40_000
    assert Redemption.objects.get(booking=first).source == "welcome"
    assert quote(customer, profile, "").discount == 0  # the first still holds time
    second = request(customer, profile, START + timedelta(days=1))
    assert second.discount == 0


def test_a_code_replaces_the_welcome_discount_even_when_smaller(profile, settings):
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1500
    promotion(code="SEPULUH", basis_points=1000)
    customer = new_customer()
    found = quote(customer, profile, "SEPULUH")
    assert (found.discount, found.source) == (30_000, "code")
    booking = request(customer, profile, START, promo_code="SEPULUH")
    assert booking.discount == 30_000
    assert Redemption.objects.get().source == "code"


def test_a_code_that_does_not_apply_previews_the_price_without_it(profile, settings):
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1500
    found = quote(new_customer(), profile, "NOPE")
    assert (found.reason, found.discount, found.source) == ("This code is not valid.", 45_000, "welcome")


def test_the_reasons_in_indonesian_with_rupiah_formatting(profile):
    promotion(minimum_subtotal=400_000)
    with translation.override("id"):
        found = quote(new_customer(), profile, "HEMAT15")
        unknown = quote(new_customer(), profile, "NOPE")
    assert (
        "Rp\u00a0400.000" in found.reason and found.reason != "This code needs a subtotal of at least Rp\u00a0400.000."
    )
    assert unknown.reason != "This code is not valid."


def test_code_checks_are_limited_per_person(profile):
    first, second = new_customer(), new_customer()
    assert all(services.code_check_allowed(first) for _ in range(10))
    assert not services.code_check_allowed(first)
    assert services.code_check_allowed(second)


def test_the_code_check_limit_fails_closed_without_a_cache(monkeypatch):
    from core.cache import CacheUnavailable

    def broken(*args, **kwargs):
        raise CacheUnavailable("down")

    monkeypatch.setattr(services.cache, "add", broken)
    assert services.code_check_allowed(new_customer()) is False


def test_pausing_a_code(profile):
    code = promotion()
    services.promotion_pause(promotion=code)
    assert quote(new_customer(), profile, "HEMAT15").reason == "This code is paused right now."
    services.promotion_pause(promotion=code, paused=False)
    assert quote(new_customer(), profile, "HEMAT15").reason is None
    assert BookingStatus.REQUESTED  # the statuses the lifecycle tests use
