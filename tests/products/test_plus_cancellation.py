"""Kompanion Plus, free cancellation up to 12 hours before the start instead of 24 (issue 17): the one policy
function takes the boundary as a parameter, and the customer's membership (when booking or when cancelling)
comes through bookings/hooks.py. The exact boundaries, member or not, through the real cancellation with its
refund; the request and cancel pages show the member's boundary."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from bookings import policy
from bookings import services as booking_services
from bookings.models import BookingStatus
from tests.bookings.helpers import NOW, START, make_companion, new_customer
from tests.bookings.test_pages import book, free_starts, new_url
from tests.payments.helpers import paid
from tests.products.plus_helpers import plus_member

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
REASON = "Ada urusan keluarga mendadak"


def member():
    customer = new_customer()
    plus_member(customer, at=NOW - DAY)
    return customer


def cancel_at(customer, moment):
    """A paid booking at START cancelled by its customer at `moment`: (refund, total, rule)."""
    booking, _payment = paid(customer=customer)
    booking = booking_services.booking_cancel(booking_id=booking.pk, actor=customer, reason=REASON, now=moment)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    settlement = policy.cancellation_preview(booking, by="customer", now=moment)
    assert booking.refund_amount == settlement.refund
    return booking.refund_amount, booking.total, settlement.rule


def test_the_policy_function_takes_the_boundary_as_a_parameter():
    at_12 = START - 12 * HOUR
    assert policy.cancellation_tiers(start=START, now=at_12)[0].rule == "partial"
    tiers = policy.cancellation_tiers(start=START, now=at_12, full_refund_notice=12 * HOUR)
    assert [(tier.rule, tier.until) for tier in tiers] == [
        ("full", at_12),
        ("partial", START - 2 * HOUR),
        ("none", None),
    ]
    assert policy.cancellation_tiers(start=START, now=at_12 + SECOND, full_refund_notice=12 * HOUR)[0].rule == (
        "partial"
    )


@pytest.mark.parametrize(
    ("is_member", "before_start", "rule"),
    [
        (True, 12 * HOUR, "full"),  # the member's boundary itself: still everything back
        (True, 12 * HOUR - SECOND, "partial"),
        (True, 24 * HOUR, "full"),
        (False, 24 * HOUR, "full"),  # everyone else's boundary
        (False, 24 * HOUR - SECOND, "partial"),
        (False, 12 * HOUR, "partial"),
    ],
)
def test_the_boundary_member_or_not(is_member, before_start, rule):
    customer = member() if is_member else new_customer()
    refund, total, applied = cancel_at(customer, START - before_start)
    assert applied == rule
    if rule == "full":
        assert refund == total
    else:
        assert 0 < refund < total


def test_a_booking_requested_as_a_member_keeps_the_12_hours_after_the_pass_ends():
    customer = new_customer()
    plus_member(customer, at=NOW - 29 * DAY - 12 * HOUR)  # ends at NOW + 12 h, before START - 12 h
    refund, total, rule = cancel_at(customer, START - 12 * HOUR)
    assert (rule, refund) == ("full", total)


def test_a_member_gets_the_12_hours_on_a_booking_made_before_joining():
    customer = new_customer()
    booking, _payment = paid(customer=customer)
    plus_member(customer, at=NOW + HOUR)  # joined after requesting, a member when cancelling
    moment = START - 12 * HOUR
    booking = booking_services.booking_cancel(booking_id=booking.pk, actor=customer, reason=REASON, now=moment)
    assert booking.refund_amount == booking.total


def test_the_companion_cancelling_still_gives_everything_back():
    booking, _payment = paid(customer=new_customer())
    companion = booking.companion.user
    booking = booking_services.booking_cancel(
        booking_id=booking.pk, actor=companion, reason=REASON, now=START - 3 * HOUR
    )
    assert booking.refund_amount == booking.total


# --- The pages ---------------------------------------------------------------------------------------------


def full_until(page: str) -> datetime:
    attribute = page.split('data-testid="policy-full" data-until="', 1)[1].split('"', 1)[0]
    return datetime.fromisoformat(attribute)


@pytest.mark.parametrize(("is_member", "notice"), [(True, 12), (False, 24)])
def test_the_request_page_shows_the_customers_boundary(client, is_member, notice):
    profile = make_companion()
    customer = new_customer()
    if is_member:
        plus_member(customer)
    client.force_login(customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    start = free_starts(profile)[0]
    page = client.get(new_url(profile, start)).content.decode()
    assert full_until(page) == start - notice * HOUR
    assert ('data-testid="policy-plus"' in page) is is_member
    if is_member:
        assert "free cancellation up to 12 hours before the start" in page


@pytest.mark.parametrize(("is_member", "notice"), [(True, 12), (False, 24)])
def test_the_cancel_page_shows_the_customers_boundary(client, is_member, notice):
    profile = make_companion()
    customer = new_customer()
    if is_member:
        plus_member(customer)
    start = free_starts(profile)[0]
    booking = book(customer, profile, start, status=BookingStatus.CONFIRMED)
    client.force_login(customer)
    page = client.get(reverse("bookings:cancel", args=[booking.reference])).content.decode()
    assert full_until(page) == start - notice * HOUR
    assert ('data-testid="policy-plus"' in page) is is_member
