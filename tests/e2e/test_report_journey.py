"""Browser journey (issue 15): a report and a staff suspension.

1. A customer (on a phone, 360x800, and on a desktop) opens their paid booking, follows "Report <companion>",
   picks "Safety", says what happened and ticks "cancel this booking for my safety": they are back on the
   booking with the thanks, and the booking is cancelled with everything refunded.
2. A staff member (desktop, password + TOTP) opens the report from the admin's reports, sees it, chooses
   "Suspend", gives the reason on the decision page and confirms.
3. The companion can no longer log in (allauth's "inactive" page) and is gone from search and their page.

The site speaks Indonesian by default: elements are found by name, href and data attributes rather than text."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from playwright.sync_api import Page, expect

from bookings.models import BookingStatus
from payments import ledger
from safety.models import ModerationAction, ModerationKind, PersonReport, ReportStatus
from tests.bookings.helpers import make_companion
from tests.conftest import STAFF_TOTP_SECRET
from tests.e2e.helpers import DESKTOP, PHONE, browser_context, enter_totp, log_in, save_screenshot, seed_reference_data
from tests.factories import TEST_PASSWORD, StaffFactory
from tests.safety.helpers import booking_on_the_real_clock


@pytest.fixture
def reference_data(transactional_db):
    seed_reference_data()


@pytest.fixture
def staff_page(browser, live_server) -> Page:
    with browser_context(browser, live_server.url, DESKTOP) as context:
        yield context.new_page()


@pytest.fixture
def companion_page(browser, live_server) -> Page:
    with browser_context(browser, live_server.url, PHONE) as context:
        yield context.new_page()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["customer-phone-360x800", "customer-desktop-1280x800"])
def test_a_customer_reports_a_companion_and_staff_suspend_them(
    page: Page, staff_page: Page, companion_page: Page, artifacts_dir, reference_data, viewport
):
    size = f"{viewport['width']}x{viewport['height']}"
    profile = make_companion(name="Dodi")
    booking = booking_on_the_real_clock(profile)
    assert booking.status == BookingStatus.CONFIRMED
    customer, companion = booking.customer, profile.user
    staff = StaffFactory(email="keamanan@example.id")
    TOTP.activate(staff, STAFF_TOTP_SECRET)
    detail_path = f"/bookings/{booking.reference}/"
    profile_path = f"/c/{profile.slug}/"
    search_path = "/companions/?city=jakarta"

    # Before: the companion is found in search.
    page.goto(search_path)
    expect(page.locator(f"a[href='{profile_path}']").first).to_be_attached()

    # ---- 1. The customer reports the companion from the booking -------------------------------------------
    page.goto(detail_path)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    log_in(page, customer.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(rf"{re.escape(detail_path)}$"))
    page.locator("a[data-report-person]").click()
    expect(page).to_have_url(re.compile(rf"/bookings/{booking.reference}/report/$"))
    form = page.locator("[data-report-form] form")
    form.locator("input[name=category][value=safety]").check()
    form.locator("textarea[name=description]").fill("Dia mengirim pesan mengancam <b>malam ini</b>.")
    form.locator("input[name=stop_booking]").check()
    save_screenshot(page, artifacts_dir / f"report-form-{size}.png")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(detail_path)}$"))
    expect(page.locator("#toasts .toast-success")).to_have_count(1)
    save_screenshot(page, artifacts_dir / f"report-sent-{size}.png")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_for_safety
    assert booking.refund_amount == booking.total
    report = PersonReport.objects.get()
    assert (report.reporter, report.reported, report.category) == (customer, companion, "safety")

    # ---- 2. Staff suspend the companion from the admin ------------------------------------------------------
    admin = staff_page
    admin_root = f"/{settings.ADMIN_URL}"
    admin.goto(admin_root)
    expect(admin).to_have_url(re.compile(r"/accounts/login/"))
    log_in(admin, staff.email, TEST_PASSWORD)
    expect(admin).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    enter_totp(admin, STAFF_TOTP_SECRET)
    expect(admin).to_have_url(re.compile(rf"{re.escape(admin_root)}$"))
    admin.goto(f"{admin_root}safety/personreport/?status__exact=open")
    admin.locator("#result_list tbody tr a").first.click()
    expect(admin).to_have_url(re.compile(rf"safety/personreport/{report.pk}/change/"))
    expect(admin.locator("#content")).to_contain_text("malam ini")
    expect(admin.locator("#content b")).to_have_count(0)  # the description is text, never markup
    admin.locator("a[href$='/decide/suspend/']").click()
    decision = admin.locator("form[data-decision-form]")
    decision.locator("textarea[name=reason]").fill("Ancaman kepada pelanggan; ditangguhkan sambil diperiksa.")
    save_screenshot(admin, artifacts_dir / "report-admin-suspend-1280x800.png")
    decision.locator("input[type=submit]").click()
    expect(admin).to_have_url(re.compile(rf"safety/personreport/{report.pk}/change/$"))
    expect(admin.locator("ul.messagelist li.success")).to_have_count(1)
    action = ModerationAction.objects.get()
    assert (action.kind, action.staff, action.user) == (ModerationKind.SUSPEND, staff, companion)
    report.refresh_from_db()
    assert report.status == ReportStatus.ACTIONED
    assert ledger.check().balanced

    # ---- 3. The companion cannot log in and is gone from search -------------------------------------------
    companion_page.goto("/accounts/login/")
    log_in(companion_page, companion.email, TEST_PASSWORD)
    expect(companion_page).to_have_url(re.compile(r"/accounts/inactive/$"))
    save_screenshot(companion_page, artifacts_dir / "report-suspended-login-360x800.png")
    page.goto(search_path)
    expect(page.locator(f"a[href='{profile_path}']")).to_have_count(0)
    assert page.goto(profile_path).status == 404
