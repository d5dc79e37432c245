"""A booking from request to confirmation: the customer asks, the companion accepts, the customer pays.

Two people, two browser contexts on one live server:
1. the customer (360x800) logs in, opens a listed companion's profile, picks a free time tomorrow, fills
   the booking form (activity, public meeting place, note, the meeting rules) and sends the request; the
   booking page shows "Requested" as the timeline's current step;
2. the companion (1280x800) logs in, opens Requests and accepts;
3. the customer reloads the booking page, presses "Pay Rp …", chooses QRIS on the payment simulator (which
   posts a signed notification to the live server's webhook, as Midtrans would), comes back to the payment
   status page saying the payment was received, opens the booking and sees "Confirmed" as the current step
   with the confirmed message.
The database then holds a confirmed booking with three events, the four notifications it caused (a
successful payment adds none of its own), and one paid payment confirmed by one applied webhook call.
test_payment_journey.py follows the money further (completion, earnings, payout).
The site speaks Indonesian by default, so visible strings are compared through the catalogues.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from bookings.models import Booking, BookingStatus
from companions.models import Activity, CompanionPhoto
from core.templatetags.ui import rupiah
from notifications.models import Notification
from payments.models import Payment, PaymentNotification
from tests.companions.test_services import jpeg
from tests.e2e.helpers import (
    DESKTOP,
    JAKARTA,
    PHONE,
    ayu_in_jakarta,
    browser_context,
    gettext_id,
    log_in,
    save_screenshot,
    serve_media,
)
from tests.factories import TEST_PASSWORD, CustomerFactory

CUSTOMER_EMAIL = "budi.santoso@example.id"
MEETING_PLACE = "Kopi Tuku, Grand Indonesia"
NOTE = "Cari ramen baru di Thamrin, lalu jalan santai."
HOURS = 2
RATE = 150_000


@pytest.mark.parametrize("viewport", [PHONE], ids=["customer-phone-360x800"])
def test_customer_requests_companion_accepts_customer_pays_and_sees_confirmed(
    page: Page, browser, live_server, artifacts_dir, reference_data, viewport
):
    base_url = live_server.url
    profile = ayu_in_jakarta(rate=RATE, min_hours=HOURS, activities=("hangout", "culinary"))
    CompanionPhoto.objects.create(profile=profile, image=jpeg(), thumbnail=jpeg(), is_cover=True)
    companion = profile.user
    customer = CustomerFactory(email=CUSTOMER_EMAIL, full_name="Budi Santoso")
    culinary = Activity.objects.get(slug="culinary")
    tomorrow = timezone.localdate(timezone=JAKARTA) + timedelta(days=1)
    start = datetime.combine(tomorrow, time(14, 0), tzinfo=JAKARTA)
    subtotal = RATE * HOURS
    total = subtotal + subtotal // 10  # 10% service fee
    serve_media(page.context, base_url)

    # ---- 1. The customer, on a phone, sends a request ------------------------------------------------
    page.goto("/accounts/login/")
    log_in(page, CUSTOMER_EMAIL, TEST_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    page.goto(f"/c/{profile.slug}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ayu")
    panel_id = f"day-{tomorrow.isoformat()}"
    page.locator(f"a[data-day-tab='{panel_id}']").click()
    panel = page.locator(f"#{panel_id}")
    expect(panel).to_be_visible()
    slot = panel.locator("a.slot--link").filter(has_text=re.compile(r"^\s*14\.00\s*$"))
    expect(slot).to_have_count(1)
    save_screenshot(page, artifacts_dir / "booking-profile-customer-360x800.png")
    slot.click()

    expect(page).to_have_url(re.compile(rf"/c/{re.escape(profile.slug)}/book/\?start=.+&hours={HOURS}$"))
    form = page.locator("form#booking-form")
    expect(form.locator("select[name=hours]")).to_have_value(str(HOURS))
    expect(form.locator(".price-breakdown__total dd")).to_have_text(rupiah(total))
    form.locator(f"input[name=activity][value='{culinary.slug}']").check()
    form.locator("input[name=meeting_place]").fill(MEETING_PLACE)
    form.locator("textarea[name=note]").fill(NOTE)
    form.locator("input[name=safety]").check()
    save_screenshot(page, artifacts_dir / "booking-form-customer-360x800.png")
    form.locator(".booking-submit button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/bookings/KMP-[A-Z0-9]+/$"))
    detail_url = page.url
    booking = Booking.objects.get(customer=customer)
    assert detail_url.endswith(f"/bookings/{booking.reference}/")
    current = page.locator(".timeline [aria-current=step]")
    expect(current).to_have_count(1)
    expect(current).to_contain_text(gettext_id("Requested"))
    expect(page.locator(".detail-list")).to_contain_text(MEETING_PLACE)
    expect(page.locator("form[action$='/pay/']")).to_have_count(0)
    save_screenshot(page, artifacts_dir / "booking-requested-customer-360x800.png")
    assert booking.status == BookingStatus.REQUESTED
    assert (booking.start, booking.end) == (start, start + timedelta(hours=HOURS))
    assert (booking.activity_id, booking.meeting_place, booking.note) == (culinary.pk, MEETING_PLACE, NOTE)
    assert (booking.subtotal, booking.total) == (subtotal, total)

    # ---- 2. The companion, on a desktop, accepts -----------------------------------------------------
    with browser_context(browser, base_url, DESKTOP) as companion_context:
        inbox = companion_context.new_page()
        inbox.goto("/accounts/login/")
        log_in(inbox, companion.email, TEST_PASSWORD)
        expect(inbox).not_to_have_url(re.compile(r"/accounts/login/"))
        # The header's "Requests" link (the menu's copy stays hidden inside its closed <details>).
        inbox.get_by_role("banner").get_by_role("link", name=gettext_id("Requests"), exact=True).click()
        expect(inbox).to_have_url(re.compile(r"/companion/requests/$"))
        card = inbox.locator("article.request-card").filter(
            has=inbox.locator(f"a[href='/bookings/{booking.reference}/']")
        )
        expect(card).to_have_count(1)
        expect(card).to_contain_text(MEETING_PLACE)
        save_screenshot(inbox, artifacts_dir / "booking-requests-companion-1280x800.png")
        card.locator(f"form[action='/bookings/{booking.reference}/accept/'] button[type=submit]").click()
        expect(inbox).to_have_url(re.compile(r"/companion/requests/$"))
        expect(inbox.locator("article.request-card")).to_have_count(0)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT

    # ---- 3. The customer reloads, pays in the simulator and sees the booking confirmed --------------
    page.reload()
    expect(page.locator(".timeline [aria-current=step]")).to_contain_text(gettext_id("Accepted"))
    pay_button = page.locator(f"form[action='/bookings/{booking.reference}/pay/'] button[type=submit]")
    expect(pay_button).to_be_visible()
    with translation.override("id"):
        expect(pay_button).to_have_text(translation.gettext("Pay %(amount)s") % {"amount": rupiah(total)})
    save_screenshot(page, artifacts_dir / "booking-accepted-customer-360x800.png")
    pay_button.click()

    expect(page).to_have_url(re.compile(r"/payments/simulator/[^/]+/$"))
    payment = Payment.objects.get(booking=booking)
    qris = page.locator(f"form[action='/payments/simulator/{payment.order_id}/'] button[name=action][value=pay_qris]")
    expect(qris).to_be_visible()
    qris.click()

    expect(page).to_have_url(re.compile(rf"/bookings/{re.escape(booking.reference)}/payment/$"))
    state = page.locator("#payment-state")
    expect(state.locator("#payment-state-title")).to_have_text(gettext_id("Payment received"))
    state.locator(f"a[href='/bookings/{booking.reference}/']").click()

    expect(page).to_have_url(detail_url)
    current = page.locator(".timeline [aria-current=step]")
    expect(current).to_have_count(1)
    expect(current).to_contain_text(gettext_id("Confirmed"))
    expect(page.locator("#booking-status")).to_contain_text(gettext_id("Confirmed! See you"))
    expect(page.locator("#booking-status")).to_contain_text(MEETING_PLACE)
    expect(page.locator("form[action$='/pay/']")).to_have_count(0)
    save_screenshot(page, artifacts_dir / "booking-confirmed-customer-360x800.png")

    # ---- The database ------------------------------------------------------------------------------
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.paid_at is not None
    events = list(booking.events.values_list("from_status", "to_status", "actor_id"))
    assert events == [
        ("", BookingStatus.REQUESTED, customer.pk),
        (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT, companion.pk),
        (BookingStatus.AWAITING_PAYMENT, BookingStatus.CONFIRMED, None),
    ]
    notifications = sorted(
        (row.recipient_id, row.event, row.context["reference"]) for row in Notification.objects.all()
    )
    assert notifications == sorted(
        [
            (companion.pk, "booking_requested", booking.reference),
            (customer.pk, "booking_accepted", booking.reference),
            (customer.pk, "booking_confirmed", booking.reference),
            (companion.pk, "booking_confirmed", booking.reference),
        ]
    )
    payment.refresh_from_db()
    assert (payment.status, payment.amount, payment.payment_type) == (Payment.Status.PAID, total, "qris")
    assert payment.invoice_number
    assert list(PaymentNotification.objects.values_list("source", "verdict")) == [
        (PaymentNotification.Source.WEBHOOK, PaymentNotification.Verdict.APPLIED)
    ]
