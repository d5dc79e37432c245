"""The life of a discount with its booking: reserved on request, consumed once when paid (a duplicate
settlement notification consumes nothing more), released on decline, withdrawal, expiry and a cancellation
with a full refund, kept on a partial refund; refunds give back what was paid; the ledger shows the money
rule (the platform pays the discount, the companion earns the same)."""

import json
from datetime import timedelta

import pytest

from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from payments import ledger
from payments import services as payment_services
from payments.demo import demo_pay
from payments.gateways.simulator import notification_for
from payments.models import Refund, SimulatorTransaction
from promotions import selectors
from promotions.models import Promotion, Redemption
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.payments.helpers import PAID_AT
from tests.promotions.helpers import promotion

pytestmark = pytest.mark.django_db

CANCEL_REASON = "Ada urusan keluarga mendadak"


@pytest.fixture
def code():
    return promotion(code="HEMAT15", total_uses=5, budget=1_000_000)


def counters(code):
    code.refresh_from_db()
    return code.uses_reserved, code.budget_reserved


def redemption(booking):
    return Redemption.objects.get(booking=booking)


def test_reserved_on_request_and_released_on_decline(code):
    profile = make_companion()
    customer = new_customer()
    booking = request(customer, profile, START, promo_code="HEMAT15")
    assert redemption(booking).status == "reserved" and counters(code) == (1, 45_000)
    booking_services.booking_decline(booking_id=booking.pk, actor=profile.user, now=NOW)
    assert redemption(booking).status == "released" and counters(code) == (0, 0)
    # The customer has the code again.
    again = request(customer, profile, START + timedelta(days=1), promo_code="HEMAT15")
    assert again.discount == 45_000 and counters(code) == (1, 45_000)


def test_released_on_withdrawal(code):
    booking = request(new_customer(), make_companion(), START, promo_code="HEMAT15")
    booking_services.booking_withdraw(booking_id=booking.pk, actor=booking.customer, now=NOW)
    assert redemption(booking).status == "released" and counters(code) == (0, 0)


def test_released_when_the_sweep_closes_an_unanswered_request(code):
    booking = request(new_customer(), make_companion(), START, promo_code="HEMAT15")
    booking_services.bookings_sweep(now=booking.response_deadline + timedelta(minutes=1))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DECLINED  # no answer in time
    assert redemption(booking).status == "released" and counters(code) == (0, 0)


def test_released_when_an_accepted_booking_expires_unpaid(code):
    profile = make_companion()
    booking = request(new_customer(), profile, START, promo_code="HEMAT15")
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking.refresh_from_db()
    booking_services.bookings_sweep(now=booking.payment_deadline + timedelta(minutes=1))
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.EXPIRED
    assert redemption(booking).status == "released" and counters(code) == (0, 0)


def pay_again(booking):
    """The provider sends the same settlement notification a second time."""
    payment = booking.payments.get()
    record = SimulatorTransaction.objects.get(order_id=payment.order_id)
    notification = notification_for(record)
    payment_services.payment_apply_notification(
        payload=notification, raw_body=json.dumps(notification), now=PAID_AT + timedelta(minutes=1)
    )


def test_consumed_once_when_paid_even_on_a_duplicate_notification(code):
    customer = new_customer()
    booking = request(customer, make_companion(), START, promo_code="HEMAT15")
    booking_services.booking_accept(booking_id=booking.pk, actor=booking.companion.user, now=NOW)
    payment = demo_pay(booking, now=PAID_AT)
    assert payment.amount == 285_000  # what the customer pays is the discounted total
    first = redemption(booking)
    assert first.status == "consumed" and first.consumed_at is not None
    pay_again(booking)
    again = redemption(booking)
    assert (again.status, again.consumed_at) == ("consumed", first.consumed_at)
    assert counters(code) == (1, 45_000)
    assert selectors.promotion_cost(code) == 45_000


def paid_with_code(code_text="HEMAT15"):
    profile = make_companion()
    booking = request(new_customer(), profile, START, promo_code=code_text)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking.refresh_from_db()
    demo_pay(booking, now=PAID_AT)
    booking.refresh_from_db()
    return booking


def test_released_on_a_cancellation_with_a_full_refund_of_what_was_paid(code):
    booking = paid_with_code()
    booking_services.booking_cancel(
        booking_id=booking.pk, actor=booking.companion.user, reason=CANCEL_REASON, now=PAID_AT
    )
    booking.refresh_from_db()
    assert booking.refund_amount == booking.total == 285_000  # never the list price
    assert Refund.objects.get(booking=booking).amount == 285_000
    assert redemption(booking).status == "released" and counters(code) == (0, 0)
    assert selectors.promotion_cost(code) == 0


def test_kept_on_a_partial_refund(code):
    booking = paid_with_code()
    booking_services.booking_cancel(
        booking_id=booking.pk, actor=booking.customer, reason=CANCEL_REASON, now=booking.start - timedelta(hours=12)
    )
    booking.refresh_from_db()
    assert 0 < booking.refund_amount < booking.total
    # The companion keeps half the subtotal less its commission, whatever the discount.
    assert booking.settled_companion_earnings == 150_000 - 30_000
    assert redemption(booking).status == "consumed" and counters(code) == (1, 45_000)
    assert selectors.promotion_cost(code) == 45_000


def test_the_platform_pays_the_discount_and_the_companion_earns_the_same(code):
    plain = paid_with_code(code_text="")
    discounted = paid_with_code()
    revenue_before = ledger.balance(ledger.PLATFORM_REVENUE)
    for booking in (plain, discounted):
        booking_services.bookings_sweep(now=booking.complete_after + timedelta(minutes=1))
    for booking in (plain, discounted):
        booking.refresh_from_db()
        assert booking.status == BookingStatus.COMPLETED
        assert ledger.balance(ledger.companion_payable_account(booking.companion_id)) == 240_000
    # Fee + commission for one, less the discount for the other.
    assert ledger.balance(ledger.PLATFORM_REVENUE) - revenue_before == 90_000 + (90_000 - 45_000)
    assert ledger.unbalanced_journals() == []
    assert ledger.check().total == 0
    figures = selectors.promotions_with_figures().get(pk=code.pk)
    assert (figures.cost, figures.consumed, figures.reserved, figures.released) == (45_000, 1, 0, 0)


def test_releasing_never_goes_below_zero(code):
    booking = request(new_customer(), make_companion(), START, promo_code="HEMAT15")
    Promotion.objects.filter(pk=code.pk).update(uses_reserved=0, budget_reserved=0)  # e.g. staff reset
    booking_services.booking_withdraw(booking_id=booking.pk, actor=booking.customer, now=NOW)
    assert counters(code) == (0, 0)


def test_a_late_payment_that_re_holds_an_expired_booking_takes_its_discount_back(code):
    profile = make_companion()
    booking = request(new_customer(), profile, START, promo_code="HEMAT15")
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking.refresh_from_db()
    late = booking.payment_deadline + timedelta(minutes=1)
    booking_services.bookings_sweep(now=late)
    assert redemption(booking).status == "released" and counters(code) == (0, 0)
    assert booking_services.booking_rehold(booking_id=booking.pk, now=late)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert redemption(booking).status == "consumed" and counters(code) == (1, 45_000)
