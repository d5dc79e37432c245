"""A first-time customer books with the demo's public promo code (issue 16), on a phone (360x800) and on a
desktop (1280x800), on a live server:
1. the home page offers the welcome discount (10% up to Rp 50.000 here, so it differs from the code);
2. the booking request page shows it on its own: a "Welcome discount" line and the lower total;
3. a code that does not exist gets the one "not valid" message, the price stays, and what was typed stays;
4. the demo's public code (promotions/demo.py), typed in lower case with spaces, replaces the welcome
   discount after "Apply" (HTMX, no reload): the code's line, "you save", the new total, also in the
   sticky total on a phone; focus is back on the code field; nothing scrolls sideways at 360 px;
5. the customer sends the request: the booking froze the code's discount (its price snapshot and the
   booking page's breakdown), the code is reserved for it, and the welcome discount was not taken too.
Visible text is compared through the Indonesian catalogue (the site's default language)."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from bookings.models import Booking
from companions.models import Activity
from core.templatetags.ui import rupiah
from promotions import services
from promotions.demo import PUBLIC_CODE, seed_promotions
from promotions.models import Redemption
from tests.e2e.helpers import (
    DESKTOP,
    JAKARTA,
    PHONE,
    ayu_in_jakarta,
    booking_request_path,
    gettext_id,
    log_in,
    save_screenshot,
    send_booking_request,
)
from tests.factories import TEST_PASSWORD, CustomerFactory

HOURS = 2
RATE = 150_000
MEETING_PLACE = "Kopi Tuku, Grand Indonesia"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-360x800", "desktop-1280x800"])
def test_a_first_time_customer_books_with_the_public_code(
    page: Page, live_server, artifacts_dir, reference_data, settings, viewport
):
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1000
    settings.WELCOME_DISCOUNT_CAP = 50_000
    seed_promotions()
    profile = ayu_in_jakarta(rate=RATE, min_hours=HOURS, activities=("hangout",))
    customer = CustomerFactory(email="sari.promo@example.id", full_name="Sari Wulandari")
    hangout = Activity.objects.get(slug="hangout")
    start = datetime.combine(timezone.localdate(timezone=JAKARTA) + timedelta(days=2), time(14, 0), tzinfo=JAKARTA)
    figures = {
        typed: services.quote(
            customer=customer, profile=profile, activity=hangout, start=start, hours=HOURS, code=typed
        )
        for typed in ("", PUBLIC_CODE)
    }
    welcome, with_code = figures[""], figures[PUBLIC_CODE]
    assert welcome.source == "welcome" and with_code.source == "code"
    assert welcome.discount == 30_000 and with_code.discount == 45_000  # 10% and 15% of Rp 300.000
    size = f"{viewport['width']}x{viewport['height']}"

    def no_sideways_scroll():
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # ---- 1. The home page offers the welcome discount -------------------------------------------------
    page.goto("/accounts/login/")
    log_in(page, customer.email, TEST_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/")
    offer = page.locator("[data-welcome-offer]")
    expect(offer).to_be_visible()
    with translation.override("id"):
        words = translation.gettext("%(percent)s%% off your first booking, up to %(cap)s") % {
            "percent": 10,
            "cap": rupiah(50_000),
        }
    expect(offer).to_contain_text(words)
    no_sideways_scroll()

    # ---- 2. The request page shows the welcome discount on its own -------------------------------------
    page.goto(booking_request_path(profile, start, HOURS))
    form = page.locator("form#booking-form")
    breakdown = form.locator(".price-breakdown")
    expect(breakdown.locator(".price-breakdown__total dd")).to_have_text(rupiah(welcome.total))
    expect(breakdown).to_contain_text(welcome.label)
    expect(breakdown).to_contain_text(f"−{rupiah(30_000)}")
    save_screenshot(page, artifacts_dir / f"promo-welcome-{size}.png")
    no_sideways_scroll()

    # ---- 3. An unknown code: one message, the price stays, the text stays -----------------------------
    field = form.locator("input[name=promo_code]")
    field.fill("NGASAL99")
    form.locator("[data-promo-apply]").click()
    status = page.locator("#promo-status")
    expect(status).to_contain_text(gettext_id("This code is not valid."))
    expect(page.locator("input[name=promo_code]")).to_have_value("NGASAL99")
    expect(page.locator("input[name=promo_code]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".price-breakdown__total dd")).to_have_text(rupiah(welcome.total))

    # ---- 4. The public code replaces the welcome discount -------------------------------------------
    page.locator("input[name=promo_code]").fill(f"  {PUBLIC_CODE.lower()} ")
    page.locator("[data-promo-apply]").click()
    expect(page.locator(".price-breakdown__total dd")).to_have_text(rupiah(with_code.total))
    breakdown = page.locator(".price-breakdown")
    expect(breakdown).to_contain_text(PUBLIC_CODE)
    expect(breakdown).to_contain_text(f"−{rupiah(45_000)}")
    expect(breakdown).not_to_contain_text(welcome.label)
    expect(page.locator("#promo-status")).not_to_contain_text(gettext_id("This code is not valid."))
    expect(page.locator("input[name=promo_code]")).to_be_focused()
    if viewport == PHONE:
        expect(page.locator(".booking-submit")).to_contain_text(rupiah(with_code.total))
    save_screenshot(page, artifacts_dir / f"promo-code-applied-{size}.png")
    no_sideways_scroll()
    assert Booking.objects.count() == 0 and Redemption.objects.count() == 0  # a preview reserves nothing

    # ---- 5. Send the request: the discount is frozen into the booking -------------------------------
    send_booking_request(page, MEETING_PLACE)
    booking = Booking.objects.get(customer=customer)
    assert (booking.discount, booking.total) == (45_000, with_code.total)
    redemption = Redemption.objects.get(booking=booking)
    assert (redemption.source, redemption.status, redemption.promotion.code) == ("code", "reserved", PUBLIC_CODE)
    expect(page.locator(".price-breakdown").first).to_contain_text(f"−{rupiah(45_000)}")
    expect(page.locator(".price-breakdown").first).to_contain_text(rupiah(with_code.total))
    save_screenshot(page, artifacts_dir / f"promo-requested-{size}.png")
    no_sideways_scroll()
