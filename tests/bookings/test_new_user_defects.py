"""Defects a new user hit on the booking pages (issue 10, items 4 and 5).

4. The cancellation policy listed tiers whose time had passed ("until Wed 11:00: full refund" for a
   booking made Wed 20:14 for Thu 11:00). Only the tiers still ahead show, from the same pure function
   that picks the refund.
5. Instant booking: "Book and pay" landed on the booking page instead of the payment; the page said
   "<companion> accepted your request"; the payment deadline showed in the companion's zone. Every time
   on the booking pages is in the viewer's zone, labelled.

The pages read the clock through django.utils.timezone.now, patched here to the fixed moments."""

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.policy import CancelledBy, Rule, Tier, cancellation_tiers, settle_cancellation
from core.templatetags.ui import local_date, local_time
from tests.bookings.helpers import HOUR, MINUTE, NOW, START, booking_form, make_companion, request
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
WEDNESDAY_EVENING = datetime(2026, 11, 25, 20, 14, tzinfo=WIB)
THURSDAY_11 = datetime(2026, 11, 26, 11, 0, tzinfo=WIB)


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["kompanion_language"] = "en"


def at(monkeypatch, moment):
    monkeypatch.setattr(timezone, "now", lambda: moment)


def until_line(moment, zone="Asia/Jakarta", abbreviation="WIB") -> str:
    with translation.override("en"):
        return f"Until {local_date(moment, zone)}, {local_time(moment, zone)} {abbreviation}"


# --- 4. The policy shows only the tiers still ahead ----------------------------------------------------


def test_the_tiers_still_ahead_for_a_booking_made_the_evening_before():
    tiers = cancellation_tiers(start=THURSDAY_11, now=WEDNESDAY_EVENING)
    assert tiers == [Tier(Rule.PARTIAL, datetime(2026, 11, 26, 9, 0, tzinfo=WIB)), Tier(Rule.NONE, None)]
    # Two days ahead every tier is still ahead; within 2 hours only "no refund" is left.
    assert [tier.rule for tier in cancellation_tiers(start=THURSDAY_11, now=THURSDAY_11 - 48 * HOUR)] == [
        Rule.FULL,
        Rule.PARTIAL,
        Rule.NONE,
    ]
    assert cancellation_tiers(start=THURSDAY_11, now=THURSDAY_11 - HOUR) == [Tier(Rule.NONE, None)]


def test_the_refund_follows_the_first_tier_shown_at_every_moment():
    moment = THURSDAY_11 - 30 * HOUR
    while moment <= THURSDAY_11 + HOUR:
        settlement = settle_cancellation(
            total=330_000,
            subtotal=300_000,
            service_fee=30_000,
            commission_basis_points=2000,
            start=THURSDAY_11,
            cancelled_at=moment,
            cancelled_by=CancelledBy.CUSTOMER,
        )
        assert settlement.rule == cancellation_tiers(start=THURSDAY_11, now=moment)[0].rule, moment
        moment += 15 * MINUTE


def test_the_request_page_lists_only_the_tiers_still_ahead(client, monkeypatch):
    profile = make_companion()
    client.force_login(CustomerFactory())
    at(monkeypatch, WEDNESDAY_EVENING)
    query = urlencode({"start": THURSDAY_11.isoformat(), "hours": 2})
    page = client.get(f"{reverse('bookings:new', args=[profile.slug])}?{query}")
    assert page.status_code == 200
    content = page.content.decode()
    assert until_line(datetime(2026, 11, 25, 11, 0, tzinfo=WIB)) not in content  # passed 9 hours ago
    assert until_line(datetime(2026, 11, 26, 9, 0, tzinfo=WIB)) in content
    assert [tier.rule for tier in page.context["policy_tiers"]] == [Rule.PARTIAL, Rule.NONE]


def test_the_cancel_page_lists_only_the_tiers_still_ahead_and_the_refund_agrees(client, monkeypatch):
    profile = make_companion()
    customer = CustomerFactory()
    booking = request(customer, profile, start=THURSDAY_11, now=WEDNESDAY_EVENING)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=WEDNESDAY_EVENING + 5 * MINUTE)
    services.booking_mark_paid(booking_id=booking.pk, now=WEDNESDAY_EVENING + 10 * MINUTE)
    client.force_login(customer)
    at(monkeypatch, WEDNESDAY_EVENING + 15 * MINUTE)
    page = client.get(reverse("bookings:cancel", args=[booking.reference]))
    assert page.status_code == 200
    content = page.content.decode()
    assert until_line(datetime(2026, 11, 25, 11, 0, tzinfo=WIB)) not in content
    assert until_line(datetime(2026, 11, 26, 9, 0, tzinfo=WIB)) in content
    assert page.context["settlement"].rule == page.context["policy_tiers"][0].rule == Rule.PARTIAL


# --- 5. Instant booking ------------------------------------------------------------------------------------


def test_book_and_pay_lands_on_the_payment(client, monkeypatch):
    profile = make_companion(instant_booking=True)
    customer = CustomerFactory()
    client.force_login(customer)
    at(monkeypatch, NOW)
    url = f"{reverse('bookings:new', args=[profile.slug])}?{urlencode({'start': START.isoformat(), 'hours': 2})}"
    assert "Book and pay" in client.get(url).content.decode()
    response = client.post(url, booking_form(START, note=""))
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    # 307: the browser repeats this POST (with its CSRF token) to the booking's pay action...
    assert response.status_code == 307
    assert response["Location"] == reverse("payments:checkout", args=[booking.reference])
    monkeypatch.undo()  # the checkout runs on the real clock: move the booking's deadline ahead of it
    Booking.objects.filter(pk=booking.pk).update(payment_deadline=timezone.now() + HOUR)
    # The session (in the database) was last saved on the fake clock, so on the real one it has expired.
    client.force_login(customer)
    checkout = client.post(response["Location"], booking_form(START, note=""))
    # ...which opens the checkout (the dev simulator here).
    assert checkout.status_code == 302 and "/payments/simulator/" in checkout["Location"]


def test_a_request_still_lands_on_the_booking_page(client, monkeypatch):
    profile = make_companion()
    client.force_login(CustomerFactory())
    at(monkeypatch, NOW)
    url = f"{reverse('bookings:new', args=[profile.slug])}?{urlencode({'start': START.isoformat(), 'hours': 2})}"
    response = client.post(url, booking_form(START, note=""))
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:detail", args=[Booking.objects.get().reference])


def _instant_booking_seen_from_makassar(client, monkeypatch):
    profile = make_companion(instant_booking=True)  # in Jakarta (WIB)
    customer = CustomerFactory(time_zone="Asia/Makassar")  # WITA, one hour ahead
    booking = request(customer, profile, now=NOW)
    client.force_login(customer)
    at(monkeypatch, NOW + 5 * MINUTE)
    return booking, client.get(reverse("bookings:detail", args=[booking.reference]))


def test_an_instant_booking_says_reserved_not_accepted(client, monkeypatch):
    booking, page = _instant_booking_seen_from_makassar(client, monkeypatch)
    content = page.content.decode()
    assert booking.was_instant
    assert "accepted" not in content.split('id="booking-status"', 1)[1].split("</div>", 1)[0]
    assert "is reserved for you" in content


def test_the_payment_deadline_shows_in_the_viewers_zone_with_its_label(client, monkeypatch):
    booking, page = _instant_booking_seen_from_makassar(client, monkeypatch)
    deadline = booking.payment_deadline
    assert deadline == NOW + HOUR
    content = page.content.decode()
    with translation.override("en"):
        in_wita = f"{local_date(deadline, 'Asia/Makassar')}, {local_time(deadline, 'Asia/Makassar')} WITA"
        in_wib = f"{local_date(deadline, 'Asia/Jakarta')}, {local_time(deadline, 'Asia/Jakarta')} WIB"
    assert in_wita in content
    assert in_wib not in content
    # The timeline beside it uses the same zone.
    assert page.context["viewer_zone"] == "Asia/Makassar"


def test_an_accepted_request_still_says_accepted(client, monkeypatch):
    profile = make_companion()
    customer = CustomerFactory()
    booking = request(customer, profile, now=NOW)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    client.force_login(customer)
    at(monkeypatch, NOW + HOUR + MINUTE)
    content = client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()
    assert "accepted!" in content and "reserved for you" not in content


def test_the_request_page_shows_its_deadlines_in_the_viewers_zone(client, monkeypatch):
    profile = make_companion(instant_booking=True)
    client.force_login(CustomerFactory(time_zone="Asia/Makassar"))
    at(monkeypatch, NOW)
    url = f"{reverse('bookings:new', args=[profile.slug])}?{urlencode({'start': START.isoformat(), 'hours': 2})}"
    content = client.get(url).content.decode()
    deadline = NOW + HOUR
    with translation.override("en"):
        assert f"{local_time(deadline, 'Asia/Makassar')} WITA" in content
        assert f"{local_time(deadline, 'Asia/Jakarta')} WIB" not in content
    assert timedelta(0) < START - deadline
