"""A companion receives a request, sees the bell count, opens the list, follows the link.

One companion in two browser contexts (desktop 1280x800 and phone 360x800) on one live server:
1. a customer's booking request exists (made through bookings.services, as the request form has its own
   journey in test_booking_journey), which recorded a "booking_requested" notification for the companion;
2. the companion logs in on both screens: the header's bell shows "1" on each (and says so to screen
   readers); a second customer asks for another time, and after a reload both bells show "2";
3. on the desktop the companion clicks the bell: the list (the bell marked as the current page) shows both
   requests, newest first, as new (unread), each with the customer's name and the requested start time;
4. the companion clicks the first (newest) item and lands on that booking's page, where the bell now
   shows "1"; the phone's bell agrees after a reload;
5. back on the list, "Mark all as read" leaves the bell without a count on both screens.
The database then holds both notifications read. The site speaks Indonesian by default, so visible texts
are compared through the catalogues (gettext_id), which gives the right answer whether or not the
translations are compiled; elements are found by href, id, class and data attributes.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Locator, Page, expect

from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from companions.models import Activity
from core import formatting
from notifications.models import Notification
from tests.e2e.helpers import (
    DESKTOP,
    JAKARTA,
    PHONE,
    ayu_in_jakarta,
    browser_context,
    gettext_id,
    log_in,
    save_screenshot,
)
from tests.factories import TEST_PASSWORD, CustomerFactory

HOURS = 2
LIST_PATH = "/notifications/"


def ngettext_id(singular: str, plural: str, count: int) -> str:
    with translation.override("id"):
        return str(translation.ngettext(singular, plural, count)) % {"counter": count}


def bell_of(page: Page) -> Locator:
    """The header's bell (components/notification_bell.html): a link to the list."""
    return page.get_by_role("banner").locator(f"a[href='{LIST_PATH}']")


def expect_bell_count(page: Page, count: int) -> None:
    bell = bell_of(page)
    expect(bell).to_have_count(1)
    expect(bell).to_be_visible()
    badge = bell.locator("[data-unread-badge]")
    if count:
        expect(badge).to_be_visible()
        expect(badge).to_have_text(str(count))
        label = ngettext_id("Notifications, %(counter)s unread", "Notifications, %(counter)s unread", count)
    else:
        expect(badge).to_have_count(0)
        label = gettext_id("Notifications")
    expect(bell).to_have_attribute("aria-label", label)


def request_booking(*, customer, profile, start: datetime, place: str) -> Booking:
    return booking_services.booking_request(
        customer=customer,
        profile=profile,
        start=start,
        hours=HOURS,
        activity=Activity.objects.get(slug="hangout"),
        meeting_place=place,
    )


def requested_text(booking: Booking, zone: str) -> str:
    """notifications/messages.py "booking_requested", as the Indonesian page writes it."""
    values = {
        "customer": booking.customer.get_short_name(),
        "start": formatting.format_datetime(booking.start, zone=zone, language="id"),
        "deadline": formatting.format_datetime(booking.response_deadline, zone=zone, language="id"),
    }
    return gettext_id("%(customer)s asks for %(start)s. Answer by %(deadline)s.") % values


@pytest.fixture
def phone_page(browser, live_server) -> Page:
    """The companion's phone, open for the whole journey beside the desktop `page`."""
    with browser_context(browser, live_server.url, PHONE) as context:
        yield context.new_page()


@pytest.mark.parametrize("viewport", [DESKTOP], ids=["companion-desktop-1280x800"])
def test_companion_sees_bell_count_opens_list_follows_link_and_marks_all_read(
    page: Page, phone_page: Page, artifacts_dir, reference_data, viewport
):
    profile = ayu_in_jakarta(rate=150_000, min_hours=HOURS, activities=("hangout",))
    companion = profile.user
    zone = companion.time_zone
    budi = CustomerFactory(email="budi.santoso@example.id", full_name="Budi Santoso")
    sari = CustomerFactory(email="sari.lestari@example.id", full_name="Sari Lestari")
    tomorrow = timezone.localdate(timezone=JAKARTA) + timedelta(days=1)

    # ---- 1. A customer asks ------------------------------------------------------------------------
    first = request_booking(
        customer=budi,
        profile=profile,
        start=datetime.combine(tomorrow, time(11, 0), tzinfo=JAKARTA),
        place="Kopi Tuku, Grand Indonesia",
    )
    assert first.status == BookingStatus.REQUESTED
    assert list(Notification.objects.values_list("recipient_id", "event", "read_at")) == [
        (companion.pk, "booking_requested", None)
    ]

    # ---- 2. The companion sees "1" on the desktop and on the phone, then "2" -----------------------
    page.goto("/accounts/login/")
    log_in(page, companion.email, TEST_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    expect_bell_count(page, 1)
    save_screenshot(page, artifacts_dir / "notifications-bell-1-companion-1280x800.png")

    phone_page.goto("/accounts/login/")
    log_in(phone_page, companion.email, TEST_PASSWORD)
    expect(phone_page).not_to_have_url(re.compile(r"/accounts/login/"))
    expect_bell_count(phone_page, 1)
    save_screenshot(phone_page, artifacts_dir / "notifications-bell-1-companion-360x800.png")

    second = request_booking(
        customer=sari,
        profile=profile,
        start=datetime.combine(tomorrow, time(16, 0), tzinfo=JAKARTA),
        place="Taman Menteng",
    )
    page.reload()
    expect_bell_count(page, 2)
    save_screenshot(page, artifacts_dir / "notifications-bell-2-companion-1280x800.png")
    phone_page.reload()
    expect_bell_count(phone_page, 2)
    save_screenshot(phone_page, artifacts_dir / "notifications-bell-2-companion-360x800.png")

    # ---- 3. The bell opens the list: both new, newest first ----------------------------------------
    bell_of(page).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(LIST_PATH)}$"))
    expect(bell_of(page)).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", level=1)).to_have_text(gettext_id("Notifications"))
    expect(page.locator("main")).to_contain_text(ngettext_id("%(counter)s unread", "%(counter)s unread", 2))
    items = page.locator("#notification-list > li")
    expect(items).to_have_count(2)
    expect(page.locator("#notification-list > li[data-unread]")).to_have_count(2)
    notification_of = {row.context["reference"]: row for row in Notification.objects.filter(recipient=companion)}
    for item, booking in zip((items.nth(0), items.nth(1)), (second, first), strict=True):
        link = item.locator(f"a[href='{LIST_PATH}{notification_of[booking.reference].pk}/']")
        expect(link).to_have_count(1)
        # "New" plus a colon for screen readers only (sr-only), so the title reads as one sentence.
        expect(item.locator(".badge")).to_have_text(re.compile(rf"^{re.escape(gettext_id('New'))}:$"))
        expect(item).to_contain_text(gettext_id("New booking request"))
        expect(item).to_contain_text(booking.customer.get_short_name())
        expect(item).to_contain_text(formatting.format_datetime(booking.start, zone=zone, language="id"))
        expect(item).to_contain_text(requested_text(booking, zone))
        expect(item.locator("time[datetime]")).to_have_count(1)
    expect(items.nth(0)).not_to_contain_text(budi.get_short_name())
    expect(page.locator(f"form[action='{LIST_PATH}read/'] button[type=submit]")).to_have_text(
        gettext_id("Mark all as read")
    )
    save_screenshot(page, artifacts_dir / "notifications-list-companion-1280x800.png")

    # ---- 4. The newest one leads to its booking; the bell counts one fewer -------------------------
    items.nth(0).locator("a").click()
    detail_path = f"/bookings/{second.reference}/"
    expect(page).to_have_url(re.compile(rf"{re.escape(detail_path)}$"))
    expect(page.locator("main")).to_contain_text(second.reference)
    expect(page.get_by_role("heading", level=1)).to_contain_text(sari.get_short_name())
    expect(page.locator(f"form[action='/bookings/{second.reference}/accept/'] button[type=submit]")).to_be_visible()
    expect_bell_count(page, 1)
    save_screenshot(page, artifacts_dir / "notifications-booking-companion-1280x800.png")
    notification_of[second.reference].refresh_from_db()
    notification_of[first.reference].refresh_from_db()
    assert notification_of[second.reference].read_at is not None
    assert notification_of[first.reference].read_at is None
    phone_page.reload()
    expect_bell_count(phone_page, 1)

    bell_of(page).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(LIST_PATH)}$"))
    expect(items).to_have_count(2)
    expect(page.locator("#notification-list > li[data-unread]")).to_have_count(1)
    expect(items.nth(0)).not_to_have_attribute("data-unread", "")
    expect(items.nth(0).locator(".badge")).to_have_count(0)
    expect(items.nth(1)).to_have_attribute("data-unread", "")

    # ---- 5. "Mark all as read": no count left ------------------------------------------------------
    page.locator(f"form[action='{LIST_PATH}read/'] button[type=submit]").click()
    expect(page.locator(f"form[action='{LIST_PATH}read/']")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"{re.escape(LIST_PATH)}$"))
    expect(items).to_have_count(2)
    expect(page.locator("#notification-list > li[data-unread]")).to_have_count(0)
    expect(page.locator("#notification-list .badge")).to_have_count(0)
    expect_bell_count(page, 0)
    save_screenshot(page, artifacts_dir / "notifications-all-read-companion-1280x800.png")
    phone_page.reload()
    expect_bell_count(phone_page, 0)
    save_screenshot(phone_page, artifacts_dir / "notifications-all-read-companion-360x800.png")

    # ---- The database ------------------------------------------------------------------------------
    rows = list(Notification.objects.order_by("pk"))
    assert [(row.recipient_id, row.event, row.context["reference"]) for row in rows] == [
        (companion.pk, "booking_requested", first.reference),
        (companion.pk, "booking_requested", second.reference),
    ]
    assert all(row.read_at is not None for row in rows)
    # Opening the newest marked it read before "Mark all as read" did the other one.
    assert rows[1].read_at < rows[0].read_at
    assert {booking.status for booking in Booking.objects.all()} == {BookingStatus.REQUESTED}
