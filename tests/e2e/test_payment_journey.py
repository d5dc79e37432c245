"""Money from the customer's phone to the companion's bank: pay in the simulator, complete, pay out.

Three people, three browser contexts on one live server:
1. a booking request exists (made through bookings.services, as the request form has its own journey in
   test_booking_journey); the customer (360x800) logs in and sees it "Requested";
2. the companion (1280x800) accepts it from the Requests inbox;
3. the customer reloads the booking, presses "Pay Rp …", lands on the payment simulator and chooses QRIS.
   The simulator posts a signed notification over HTTP to the live server's webhook (the real money path:
   signature, legal move, ledger, confirmation) and sends the browser to the payment status page, which
   says the payment was received; the booking's timeline shows "Confirmed" and the receipt its invoice
   number;
4. time passes: the sweep runs at the booking's `complete_after` (end + 24 h) and completes it, which
   moves the companion's earnings out of escrow;
5. the companion opens Earnings from the menu, sees them available, saves a bank account and asks for a
   Rp 100.000 payout, listed as requested;
6. a staff member (1280x800, password + TOTP) approves the payout in the admin, then marks it paid with
   the bank transfer's reference (an intermediate form);
7. the companion reloads Earnings: the payout is paid (with its reference), the balance went down.
The database then holds a completed booking, a paid payout, a balanced ledger and the companion's
balances as the page showed them. The site speaks Indonesian by default; the payment pages' strings may
not be translated yet, so elements are found by form action, button value, id and class, and visible
text is compared through the catalogues (gettext_id), which gives the same answer either way.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from bookings import services as booking_services
from bookings.models import BookingStatus
from companions.models import Activity
from notifications.models import Notification
from payments import ledger, selectors
from payments.models import BankAccount, Payment, PaymentNotification, Payout
from tests.conftest import STAFF_TOTP_SECRET
from tests.e2e.helpers import (
    DESKTOP,
    JAKARTA,
    PHONE,
    ayu_in_jakarta,
    browser_context,
    enter_totp,
    gettext_id,
    log_in,
    rupiah_id,
    save_screenshot,
)
from tests.factories import TEST_PASSWORD, CustomerFactory, StaffFactory

CUSTOMER_EMAIL = "rina.wijaya@example.id"
MEETING_PLACE = "Sarinah, Jalan M.H. Thamrin"
HOURS = 2
RATE = 150_000
PAYOUT = 100_000
ACCOUNT_NUMBER = "8012345678"
HOLDER_NAME = "Ayu Lestari"
TRANSFER_REFERENCE = "BCA-TRF-0001-KOMPANION"


@pytest.fixture
def companion_page(browser, live_server) -> Page:
    """The companion's desktop browser, open for the whole journey (accept, then earnings twice)."""
    with browser_context(browser, live_server.url, DESKTOP) as context:
        yield context.new_page()


@pytest.fixture
def staff_page(browser, live_server) -> Page:
    with browser_context(browser, live_server.url, DESKTOP) as context:
        yield context.new_page()


@pytest.mark.parametrize("viewport", [PHONE], ids=["customer-phone-360x800"])
def test_customer_pays_in_simulator_companion_is_paid_out_by_admin(
    page: Page, companion_page: Page, staff_page: Page, artifacts_dir, reference_data, viewport
):
    profile = ayu_in_jakarta(rate=RATE, min_hours=HOURS, activities=("hangout", "culinary"))
    companion = profile.user
    customer = CustomerFactory(email=CUSTOMER_EMAIL, full_name="Rina Wijaya")
    staff = StaffFactory(email="keuangan@example.id")
    TOTP.activate(staff, STAFF_TOTP_SECRET)
    tomorrow = timezone.localdate(timezone=JAKARTA) + timedelta(days=1)
    booking = booking_services.booking_request(
        customer=customer,
        profile=profile,
        start=datetime.combine(tomorrow, time(14, 0), tzinfo=JAKARTA),
        hours=HOURS,
        activity=Activity.objects.get(slug="culinary"),
        meeting_place=MEETING_PLACE,
    )
    reference = booking.reference
    detail_path = f"/bookings/{reference}/"
    total = booking.total
    earnings = booking.companion_earnings
    assert (booking.subtotal, total) == (RATE * HOURS, RATE * HOURS + RATE * HOURS // 10)
    assert earnings > PAYOUT + 50_000  # enough left after the payout for the form to come back

    # ---- 1. The customer, on a phone, sees the request ---------------------------------------------
    page.goto(detail_path)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    log_in(page, CUSTOMER_EMAIL, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(rf"{re.escape(detail_path)}$"))
    expect(page.locator(".timeline [aria-current=step]")).to_contain_text(gettext_id("Requested"))
    expect(page.locator("form[action$='/pay/']")).to_have_count(0)

    # ---- 2. The companion, on a desktop, accepts ---------------------------------------------------
    inbox = companion_page
    inbox.goto("/accounts/login/")
    log_in(inbox, companion.email, TEST_PASSWORD)
    expect(inbox).not_to_have_url(re.compile(r"/accounts/login/"))
    inbox.get_by_role("banner").get_by_role("link", name=gettext_id("Requests"), exact=True).click()
    expect(inbox).to_have_url(re.compile(r"/companion/requests/$"))
    card = inbox.locator("article.request-card").filter(has=inbox.locator(f"a[href='{detail_path}']"))
    expect(card).to_have_count(1)
    card.locator(f"form[action='/bookings/{reference}/accept/'] button[type=submit]").click()
    expect(inbox).to_have_url(re.compile(r"/companion/requests/$"))
    expect(inbox.locator("article.request-card")).to_have_count(0)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT

    # ---- 3. The customer pays in the simulator ------------------------------------------------------
    page.reload()
    expect(page.locator(".timeline [aria-current=step]")).to_contain_text(gettext_id("Accepted"))
    pay_button = page.locator(f"form[action='/bookings/{reference}/pay/'] button[type=submit]")
    expect(pay_button).to_be_visible()
    expect(pay_button).to_have_text(gettext_id("Pay %(amount)s") % {"amount": rupiah_id(total)})
    pay_button.click()

    expect(page).to_have_url(re.compile(r"/payments/simulator/[^/]+/$"))
    payment = Payment.objects.get(booking=booking)
    assert page.url.endswith(f"/payments/simulator/{payment.order_id}/")
    assert (payment.amount, payment.status) == (total, Payment.Status.CREATED)
    qris = page.locator(f"form[action='/payments/simulator/{payment.order_id}/'] button[name=action][value=pay_qris]")
    expect(qris).to_be_visible()
    checkout = page.locator(".card").filter(has=qris)
    expect(checkout).to_contain_text(reference)
    expect(checkout.locator(".detail-list")).to_contain_text(rupiah_id(total))
    expect(checkout.locator(".detail-list")).to_contain_text(payment.order_id)
    expect(qris).to_have_text(gettext_id("Pay with QRIS"))
    save_screenshot(page, artifacts_dir / "payment-simulator-customer-360x800.png")
    qris.click()

    # The simulator's notification reached the webhook over HTTP before the browser came back here.
    expect(page).to_have_url(re.compile(rf"/bookings/{re.escape(reference)}/payment/$"))
    state = page.locator("#payment-state")
    expect(state.locator("#payment-state-title")).to_have_text(gettext_id("Payment received"))
    expect(state).to_contain_text(gettext_id("Your booking is confirmed! See you"))
    expect(state).to_contain_text(MEETING_PLACE)
    expect(state.locator(".detail-list")).to_contain_text(rupiah_id(total))
    expect(page.locator("#payment-state[hx-get]")).to_have_count(0)  # a final state: no more polling
    save_screenshot(page, artifacts_dir / "payment-confirmed-customer-360x800.png")

    state.locator(f"a[href='{detail_path}']").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(detail_path)}$"))
    current = page.locator(".timeline [aria-current=step]")
    expect(current).to_have_count(1)
    expect(current).to_contain_text(gettext_id("Confirmed"))
    expect(page.locator("#booking-status")).to_contain_text(gettext_id("Confirmed! See you"))
    expect(page.locator("form[action$='/pay/']")).to_have_count(0)
    payment_card = page.locator("section[aria-labelledby=payment-title]")
    expect(payment_card).to_contain_text(rupiah_id(total))
    save_screenshot(page, artifacts_dir / "payment-booking-confirmed-customer-360x800.png")

    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert payment.invoice_number
    payment_card.locator(f"a[href='/bookings/{reference}/receipt/']").click()
    expect(page).to_have_url(re.compile(rf"/bookings/{re.escape(reference)}/receipt/$"))
    receipt = page.locator("article.receipt")
    expect(receipt.locator("#receipt-title")).to_have_text(gettext_id("Receipt"))
    expect(receipt.locator(".detail-list")).to_contain_text(payment.invoice_number)
    expect(receipt.locator(".detail-list")).to_contain_text(payment.order_id)
    expect(receipt).to_contain_text(CUSTOMER_EMAIL)
    save_screenshot(page, artifacts_dir / "payment-receipt-customer-360x800.png")

    # ---- 4. Time passes: the booking ends and nobody disputes it -----------------------------------
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert selectors.companion_balances(profile)["in_escrow"] == earnings
    assert booking_services.bookings_sweep(now=booking.complete_after) == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED

    # ---- 5. The companion sees the earnings, adds a bank account and asks for a payout -------------
    earnings_page = companion_page
    earnings_page.goto("/companion/")
    menu = earnings_page.get_by_role("banner").locator("details.menu")
    menu.locator("summary").click()
    earnings_link = menu.locator(".menu-panel a[href='/companion/earnings/']")
    expect(earnings_link).to_have_text(gettext_id("Earnings"))
    earnings_link.click()
    expect(earnings_page).to_have_url(re.compile(r"/companion/earnings/$"))
    figures = earnings_page.locator(".balance-grid .balance__figure")
    # Available, in escrow, paid out.
    expect(figures).to_have_text([rupiah_id(earnings), rupiah_id(0), rupiah_id(0)])
    history = earnings_page.locator("section[aria-labelledby=history-title] .money-list__item")
    expect(history).to_have_count(1)
    expect(history).to_contain_text(reference)
    expect(history).to_contain_text(rupiah_id(earnings))
    payout_input = earnings_page.locator("input[name='payout-amount']")
    expect(payout_input).to_have_count(0)  # no bank account yet

    bank_form = earnings_page.locator("form[action='/companion/earnings/']").filter(
        has=earnings_page.locator("select[name='bank-bank']")
    )
    bank_form.locator("select[name='bank-bank']").select_option("bca")
    bank_form.locator("input[name='bank-account_number']").fill(ACCOUNT_NUMBER)
    bank_form.locator("input[name='bank-holder_name']").fill(HOLDER_NAME)
    save_screenshot(earnings_page, artifacts_dir / "payment-earnings-available-companion-1280x800.png")
    bank_form.locator("button[type=submit]").click()
    expect(earnings_page).to_have_url(re.compile(r"/companion/earnings/$"))
    saved_account = earnings_page.locator("#bank-account .detail-list")
    expect(saved_account).to_contain_text("BCA")
    expect(saved_account).to_contain_text(ACCOUNT_NUMBER[-4:])
    expect(saved_account).to_contain_text(HOLDER_NAME)
    expect(earnings_page.locator("main")).not_to_contain_text(ACCOUNT_NUMBER)  # masked, never in full

    payout_form = earnings_page.locator("form[action='/companion/earnings/']").filter(has=payout_input)
    expect(payout_form).to_have_count(1)
    payout_input.fill("100.000")
    payout_form.locator("button[type=submit]").click()
    expect(earnings_page).to_have_url(re.compile(r"/companion/earnings/$"))
    payouts = earnings_page.locator("section[aria-labelledby=payouts-title] .money-list__item")
    expect(payouts).to_have_count(1)
    expect(payouts).to_contain_text(rupiah_id(PAYOUT))
    expect(payouts.locator(".badge")).to_have_text(gettext_id("Requested"))
    expect(figures).to_have_text([rupiah_id(earnings - PAYOUT), rupiah_id(0), rupiah_id(0)])
    expect(payout_input).to_have_count(0)  # one payout at a time
    save_screenshot(earnings_page, artifacts_dir / "payment-payout-requested-companion-1280x800.png")
    payout = Payout.objects.get(profile=profile)
    assert (payout.amount, payout.status) == (PAYOUT, Payout.Status.REQUESTED)
    assert (payout.bank, payout.account_number, payout.holder_name) == ("bca", ACCOUNT_NUMBER, HOLDER_NAME)

    # ---- 6. Staff approve the payout, transfer the money and mark it paid --------------------------
    admin = staff_page
    admin_root = f"/{settings.ADMIN_URL}"
    admin.goto(admin_root)
    expect(admin).to_have_url(re.compile(r"/accounts/login/"))
    log_in(admin, staff.email, TEST_PASSWORD)
    expect(admin).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    enter_totp(admin, STAFF_TOTP_SECRET)
    expect(admin).to_have_url(re.compile(rf"{re.escape(admin_root)}$"))

    changelist = f"{admin_root}payments/payout/"
    admin.goto(changelist)
    row = admin.locator("#result_list tbody tr").filter(has=admin.locator(f"input.action-select[value='{payout.pk}']"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(profile.display_name)
    row.locator("input.action-select").check()
    admin.locator("select[name=action]").select_option("approve")
    save_screenshot(admin, artifacts_dir / "payment-admin-payouts-1280x800.png")
    admin.locator("#changelist-form .actions button[name=index]").click()
    expect(admin.locator("ul.messagelist li.success")).to_have_count(1)
    expect(admin.locator("ul.messagelist li.error")).to_have_count(0)
    expect(row).to_contain_text(gettext_id("Approved, transfer on its way"))
    payout.refresh_from_db()
    assert (payout.status, payout.decided_by_id) == (Payout.Status.APPROVED, staff.pk)

    row.locator("input.action-select").check()
    admin.locator("select[name=action]").select_option("mark_paid")
    admin.locator("#changelist-form .actions button[name=index]").click()
    transfer_form = admin.locator("form").filter(has=admin.locator("input[name=reference]"))
    expect(transfer_form).to_have_count(1)
    # Staff need the full number to make the transfer: here, and only here, it is shown.
    expect(admin.locator("#content")).to_contain_text(ACCOUNT_NUMBER)
    expect(admin.locator("#content")).to_contain_text(HOLDER_NAME)
    transfer_form.locator("input[name=reference]").fill(TRANSFER_REFERENCE)
    save_screenshot(admin, artifacts_dir / "payment-admin-mark-paid-1280x800.png")
    transfer_form.locator("input[type=submit]").click()
    # The form posts to the changelist's own address: wait for the form to go, not for the URL.
    expect(transfer_form).to_have_count(0)
    expect(admin).to_have_url(re.compile(rf"{re.escape(changelist)}$"))
    expect(admin.locator("ul.messagelist li.success")).to_have_count(1)
    expect(admin.locator("ul.messagelist li.error")).to_have_count(0)
    expect(row).to_contain_text(gettext_id("Paid"))
    save_screenshot(admin, artifacts_dir / "payment-admin-payout-paid-1280x800.png")

    # ---- 7. The companion sees the payout paid ------------------------------------------------------
    earnings_page.reload()
    expect(payouts).to_have_count(1)
    expect(payouts.locator(".badge")).to_have_text(gettext_id("Paid"))
    expect(payouts).to_contain_text(TRANSFER_REFERENCE)
    expect(figures).to_have_text([rupiah_id(earnings - PAYOUT), rupiah_id(0), rupiah_id(PAYOUT)])
    expect(history).to_have_count(2)  # the payout out, the booking in
    expect(history.first).to_contain_text(rupiah_id(PAYOUT))
    expect(payout_input).to_have_count(1)  # the next payout can be requested
    save_screenshot(earnings_page, artifacts_dir / "payment-payout-paid-companion-1280x800.png")

    # ---- The database ------------------------------------------------------------------------------
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    assert list(booking.events.values_list("from_status", "to_status", "actor_id")) == [
        ("", BookingStatus.REQUESTED, customer.pk),
        (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT, companion.pk),
        (BookingStatus.AWAITING_PAYMENT, BookingStatus.CONFIRMED, None),
        (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, None),
    ]
    payment.refresh_from_db()
    assert (payment.status, payment.payment_type, payment.amount) == (Payment.Status.PAID, "qris", total)
    # Exactly one notification, through the webhook (not a status check), signed and applied.
    assert list(PaymentNotification.objects.values_list("order_id", "source", "transaction_status", "verdict")) == [
        (payment.order_id, PaymentNotification.Source.WEBHOOK, "settlement", PaymentNotification.Verdict.APPLIED)
    ]
    payout.refresh_from_db()
    assert (payout.status, payout.transfer_reference, payout.amount) == (
        Payout.Status.PAID,
        TRANSFER_REFERENCE,
        PAYOUT,
    )
    assert payout.paid_at is not None
    assert BankAccount.objects.get(profile=profile).account_number == ACCOUNT_NUMBER
    assert ledger.unbalanced_journals() == []
    assert ledger.balance(ledger.escrow_account(booking.pk)) == 0
    assert selectors.companion_balances(profile) == {
        "in_escrow": 0,
        "owed": earnings - PAYOUT,
        "reserved": 0,
        "available": earnings - PAYOUT,
        "paid_out": PAYOUT,
    }
    notifications = sorted((row.recipient_id, row.event) for row in Notification.objects.all())
    assert notifications == sorted(
        [
            (companion.pk, "booking_requested"),
            (customer.pk, "booking_accepted"),
            (customer.pk, "booking_confirmed"),
            (companion.pk, "booking_confirmed"),
            (customer.pk, "booking_completed"),
            (companion.pk, "booking_completed"),
            (companion.pk, "payout_paid"),
        ]
    )
