"""Kompanion Plus, half the service fee (issue 17): a platform-paid member part in the booking's snapshot,
recorded per booking (MemberSaving), stacking with promotions' part (a code, the welcome discount) within
promotions' cap; the companion's share never changes. The request page shows the member line. What Plus saved
a member so far (products/plus.py)."""

from datetime import timedelta

import pytest
from django.conf import settings

from bookings.errors import BookingError
from bookings.models import Booking
from products.models import MemberSaving
from products.plus import plus_savings
from promotions.models import Promotion, Redemption
from tests.bookings.helpers import NOW, START, booking_form, make_companion, new_customer, request
from tests.bookings.test_pages import book, free_starts, new_url
from tests.products.plus_helpers import plus_member
from tests.promotions.helpers import promotion

pytestmark = pytest.mark.django_db

# 2 h at Rp 150.000: subtotal 300.000, service fee 30.000 (half: 15.000), total 330.000 without a discount.
DAY = timedelta(days=1)


@pytest.fixture
def profile():
    return make_companion()


@pytest.fixture
def member():
    customer = new_customer()
    plus_member(customer, at=NOW - DAY)
    return customer


def saving_of(booking) -> int:
    return MemberSaving.objects.filter(booking=booking).values_list("amount", flat=True).first() or 0


def redemption_of(booking) -> int:
    return Redemption.objects.filter(booking=booking).values_list("discount", flat=True).first() or 0


def test_a_member_pays_half_the_service_fee_and_the_companion_earns_the_same(profile, member):
    plain = request(new_customer(), profile, START)
    booking = request(member, profile, START + DAY)
    assert (plain.service_fee, plain.discount, plain.total) == (30_000, 0, 330_000)
    assert (booking.subtotal, booking.service_fee, booking.discount, booking.total) == (
        300_000,
        30_000,
        15_000,
        315_000,
    )
    assert booking.companion_earnings == plain.companion_earnings == booking.subtotal - booking.commission
    assert booking.commission == plain.commission
    assert saving_of(booking) == 15_000 and redemption_of(booking) == 0
    assert saving_of(plain) == 0 and not MemberSaving.objects.filter(booking=plain).exists()


def test_the_service_fee_half_is_rounded_down(member):
    profile = make_companion(rate=87_500)  # 1 h: fee 8.750, half 4.375
    booking = request(member, profile, START, hours=1)
    assert (booking.service_fee, booking.discount, saving_of(booking)) == (8_750, 4_375, 4_375)


def test_no_member_discount_before_or_after_the_paid_period(profile):
    lapsed, future = new_customer(), new_customer()
    plus_member(lapsed, at=NOW - 31 * DAY)  # ended a day before NOW
    plus_member(future, at=NOW + DAY)  # starts tomorrow
    for customer, start in ((lapsed, START), (future, START + DAY)):
        booking = request(customer, profile, start)
        assert booking.discount == 0 and saving_of(booking) == 0


def test_a_code_stacks_on_the_member_part_and_each_part_is_recorded(profile, member):
    code = promotion()  # 15% up to Rp 50.000: Rp 45.000 here
    booking = request(member, profile, START, promo_code="HEMAT15")
    assert (booking.discount, booking.total) == (60_000, 270_000)
    assert saving_of(booking) == 15_000 and redemption_of(booking) == 45_000
    assert saving_of(booking) + redemption_of(booking) == booking.discount
    code.refresh_from_db()
    assert (code.uses_reserved, code.budget_reserved) == (1, 45_000)  # the code pays its own part only


def test_the_sum_stays_within_the_platforms_part_and_the_code_takes_what_remains(profile, member):
    promotion(code="BESAR", kind=Promotion.Kind.FIXED, basis_points=0, amount=600_000)
    plain = request(new_customer(), profile, START, promo_code="BESAR")
    booking = request(member, profile, START + DAY, promo_code="BESAR")
    most = min(
        booking.service_fee + booking.commission,
        booking.subtotal + booking.service_fee - settings.PROMOTION_MINIMUM_TOTAL,
    )
    assert plain.discount == booking.discount == most  # capped the same, member or not
    assert saving_of(booking) == 15_000 and redemption_of(booking) == most - 15_000
    assert booking.companion_earnings == plain.companion_earnings == booking.subtotal - booking.commission


def test_a_code_with_no_room_left_after_the_member_part_is_refused_and_nothing_is_written(member, settings):
    # A companion whose whole platform part is the service fee (commission 0 is not possible from a level;
    # a tiny rate makes the minimum total the binding limit instead): Rp 12.000 subtotal, fee 1.200.
    settings.PROMOTION_MINIMUM_TOTAL = 12_600  # room left: 13.200 - 12.600 = 600, all of it the member part
    profile = make_companion(rate=12_000)
    promotion(code="KECIL", kind=Promotion.Kind.FIXED, basis_points=0, amount=5_000, minimum_subtotal=0)
    before = Booking.objects.count()
    with pytest.raises(BookingError):
        request(member, profile, START, hours=1, promo_code="KECIL")
    assert Booking.objects.count() == before and not MemberSaving.objects.exists()
    booking = request(member, profile, START, hours=1)
    assert (booking.discount, booking.total, saving_of(booking)) == (600, 12_600, 600)


def test_the_welcome_discount_stacks_on_the_member_part(profile, member, settings):
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1000  # 10% up to Rp 50.000: Rp 30.000 here
    settings.WELCOME_DISCOUNT_CAP = 50_000
    booking = request(member, profile, START)
    assert (booking.discount, saving_of(booking), redemption_of(booking)) == (45_000, 15_000, 30_000)
    assert Redemption.objects.get(booking=booking).source == "welcome"


# --- The request page ----------------------------------------------------------------------------------


def test_the_request_page_shows_the_member_line_and_the_lower_total(client, profile):
    customer = new_customer()
    plus_member(customer)
    client.force_login(customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    start = free_starts(profile)[0]
    page = client.get(new_url(profile, start)).content.decode()
    line = page.split('data-testid="plus-discount"', 1)[1].split("</div>", 1)[0]
    assert "Kompanion Plus: ½ service fee" in line and "−Rp\xa015,000" in line
    assert "Rp\xa0315,000" in page and "Rp\xa0330,000" not in page
    response = client.post(new_url(profile, start), booking_form(start))
    booking = Booking.objects.get(customer=customer)
    assert response.status_code == 302 and (booking.discount, booking.total, saving_of(booking)) == (
        15_000,
        315_000,
        15_000,
    )


def test_the_request_page_shows_both_parts_with_a_code(client, profile):
    promotion()  # valid around NOW and the real clock
    customer = new_customer()
    plus_member(customer)
    client.force_login(customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    start = free_starts(profile)[0]
    data = {**booking_form(start), "promo_code": "HEMAT15", "refresh": "1", "promo_check": "1"}
    page = client.post(new_url(profile, start), data, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="plus-discount"' in page and "−Rp\xa015,000" in page
    assert "HEMAT15 (15%)" in page and "−Rp\xa045,000" in page and "Rp\xa0270,000" in page


def test_a_non_member_sees_no_member_line(client, profile):
    client.force_login(new_customer())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    start = free_starts(profile)[0]
    page = client.get(new_url(profile, start)).content.decode()
    assert 'data-testid="plus-discount"' not in page and "Rp\xa0330,000" in page


# --- What Plus saved ------------------------------------------------------------------------------------


def test_savings_count_paid_bookings_not_fully_refunded(profile):
    customer = new_customer()
    plus_member(customer)
    starts = free_starts(profile, days_ahead=3)
    unpaid = book(customer, profile, starts[0])
    paid = book(customer, profile, starts[6], status="confirmed")
    refunded = book(customer, profile, starts[12], status="confirmed")
    partly = book(customer, profile, starts[18], status="confirmed")
    Booking.objects.filter(pk=refunded.pk).update(refund_amount=refunded.total)
    Booking.objects.filter(pk=partly.pk).update(refund_amount=partly.total - 1)
    assert all(saving_of(booking) == 15_000 for booking in (unpaid, paid, refunded, partly))
    assert plus_savings(customer) == 30_000  # the paid one and the partly refunded one
    assert plus_savings(new_customer()) == 0


def test_savings_are_each_persons_own(profile):
    first, second = new_customer(), new_customer()
    plus_member(first)
    plus_member(second)
    starts = free_starts(profile, days_ahead=3)
    book(first, profile, starts[0], status="confirmed")
    book(second, profile, starts[6], status="confirmed")
    book(second, profile, starts[12], status="confirmed")
    assert (plus_savings(first), plus_savings(second)) == (15_000, 30_000)
