"""The paid products (issue 17) in a browser, on a phone (360x800) and on a desktop (1280x800), on a live server.

Sorotan: a listed, verified companion opens the Sorotan tab of their dashboard, picks the 7-day package and pays
online; the payment simulator (QRIS) posts the signed notification to the live server's webhook and sends the
browser to the purchase page, which says "Paid". A visitor who searches the companion's city and activity saw
them third, unlabelled, before; now they are first, labelled "Promoted", and the only one labelled.

Kompanion Plus: a customer opens /plus/, buys the 30-day pass the same way, and the Plus page says they are a
member. They open a companion's profile, pick a time, and the booking request page shows the "Kompanion Plus:
½ service fee" line (rate × hours × 10% fee / 2 off) and the lower total; the sent request keeps that discount.

Visible text is compared through the Indonesian catalogue (gettext_id, rupiah_id), the site's default language.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from bookings.models import Booking
from payments.models import Payment, PaymentNotification
from products.models import MemberSaving, Package, Product, Purchase
from products.selectors import is_plus_member, promoted_profile_ids
from tests.companions.helpers import listed_companion
from tests.e2e.helpers import (
    DESKTOP,
    EVERY_DAY_10_TO_20,
    JAKARTA,
    PHONE,
    ayu_in_jakarta,
    browser_context,
    gettext_id,
    log_in,
    rupiah_id,
    save_screenshot,
    send_booking_request,
)
from tests.factories import TEST_PASSWORD, CustomerFactory

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-360x800", "desktop-1280x800"])
HOURS = 2
RATE = 150_000
SEARCH = "/companions/?city=jakarta&activity=hangout"
MEETING_PLACE = "Kopi Tuku, Grand Indonesia"


def create_packages() -> tuple[Package, Package]:
    """What staff put on sale in the admin: a 7-day Sorotan and a 30-day Plus pass."""
    sorotan = Package.objects.create(product=Product.SOROTAN, name="Sorotan 7 hari", days=7, price=75_000)
    plus = Package.objects.create(product=Product.PLUS, name="Kompanion Plus 30 hari", days=30, price=49_000)
    return sorotan, plus


def size_of(viewport: dict) -> str:
    return f"{viewport['width']}x{viewport['height']}"


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def pay_with_qris_in_simulator(page: Page, purchase: Purchase) -> Payment:
    """On the simulator's page for the purchase's payment: check what it shows and pay with QRIS. The simulator
    posts the signed notification to the live server's webhook before sending the browser on."""
    expect(page).to_have_url(re.compile(r"/payments/simulator/[^/]+/$"))
    payment = Payment.objects.get(purchase=purchase)
    assert page.url.endswith(f"/payments/simulator/{payment.order_id}/")
    assert (payment.amount, payment.status) == (purchase.price, Payment.Status.CREATED)
    qris = page.locator(f"form[action='/payments/simulator/{payment.order_id}/'] button[name=action][value=pay_qris]")
    expect(qris).to_have_text(gettext_id("Pay with QRIS"))
    checkout = page.locator(".card").filter(has=qris)
    expect(checkout).to_contain_text(purchase.reference)
    expect(checkout).to_contain_text(purchase.package.name)
    expect(checkout.locator(".detail-list")).to_contain_text(rupiah_id(purchase.price))
    qris.click()
    return payment


def expect_paid_purchase_page(page: Page, purchase: Purchase) -> None:
    expect(page).to_have_url(re.compile(rf"/purchases/{re.escape(purchase.reference)}/$"))
    card = page.locator("[data-testid=purchase]")
    expect(card).to_have_attribute("data-status", Purchase.Status.PAID)
    expect(card).to_contain_text(gettext_id("Paid"))
    expect(card).to_contain_text(purchase.reference)
    expect(card).to_contain_text(rupiah_id(purchase.price))
    expect(page.locator("form button[type=submit]").filter(has_text=gettext_id("Pay now"))).to_have_count(0)
    no_sideways_scroll(page)  # the invoice number wraps on a phone


def assert_paid_through_webhook(purchase: Purchase, payment: Payment, days: int) -> None:
    purchase.refresh_from_db()
    assert (purchase.status, purchase.method, purchase.days) == (Purchase.Status.PAID, Purchase.Method.GATEWAY, days)
    assert purchase.ends_at - purchase.starts_at == timedelta(days=days)
    payment.refresh_from_db()
    assert (payment.status, payment.payment_type) == (Payment.Status.PAID, "qris")
    assert list(PaymentNotification.objects.values_list("order_id", "source", "verdict")) == [
        (payment.order_id, PaymentNotification.Source.WEBHOOK, PaymentNotification.Verdict.APPLIED)
    ]


def search_cards(page: Page):
    page.goto(SEARCH)
    cards = page.locator("#results article.companion-card")
    expect(cards).to_have_count(3)
    return cards


@VIEWPORTS
def test_a_companion_buys_sorotan_and_appears_promoted(
    page: Page, browser, live_server, artifacts_dir, reference_data, viewport
):
    sorotan_package, _plus_package = create_packages()
    # Two companions who match the same search and come before Ayu in its order (older rows, same listing).
    others = [
        listed_companion(name=name, ranges=EVERY_DAY_10_TO_20, min_hours=HOURS, max_hours=6)
        for name in ("Bunga", "Citra")
    ]
    profile = ayu_in_jakarta(rate=RATE, min_hours=HOURS, activities=("hangout",))
    companion = profile.user
    size = size_of(viewport)

    with browser_context(browser, live_server.url, viewport) as visitor_context:
        visitor = visitor_context.new_page()

        # ---- Before: the visitor finds Ayu third, without a label ---------------------------------------
        cards = search_cards(visitor)
        expect(cards.nth(0)).to_contain_text(others[0].display_name)
        expect(cards.nth(2)).to_contain_text(profile.display_name)
        expect(visitor.locator("[data-testid=promoted]")).to_have_count(0)

        # ---- The companion buys a 7-day Sorotan from the dashboard ---------------------------------------
        page.goto("/accounts/login/")
        log_in(page, companion.email, TEST_PASSWORD)
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
        page.goto("/companion/")
        tab = page.locator("nav ul.section-nav a[href='/companion/sorotan/']")
        expect(tab).to_have_text(gettext_id("Sorotan"))
        tab.click()
        expect(page).to_have_url(re.compile(r"/companion/sorotan/$"))
        expect(page.locator("nav ul.section-nav a[aria-current=page]")).to_have_text(gettext_id("Sorotan"))
        expect(page.locator("[data-testid=missing]")).to_have_count(0)  # eligible: nothing is missing
        expect(page.locator("[data-testid=periods]")).to_have_count(0)
        form = page.locator("form").filter(has=page.locator("input[name=package]"))
        form.locator(f"input[name=package][value='{sorotan_package.pk}']").check()
        form.locator(f"input[name=method][value='{Purchase.Method.GATEWAY}']").check()
        no_sideways_scroll(page)
        save_screenshot(page, artifacts_dir / f"sorotan-buy-{size}.png")
        form.locator("button[type=submit]").click()

        expect(page).to_have_url(re.compile(r"/payments/simulator/[^/]+/$"))
        purchase = Purchase.objects.get(buyer=companion, product=Product.SOROTAN)
        assert (purchase.profile_id, purchase.package_id, purchase.price) == (profile.pk, sorotan_package.pk, 75_000)
        assert purchase.status == Purchase.Status.OPEN
        assert promoted_profile_ids() == set()  # not paid yet: not promoted
        payment = pay_with_qris_in_simulator(page, purchase)

        expect_paid_purchase_page(page, purchase)
        save_screenshot(page, artifacts_dir / f"sorotan-paid-{size}.png")
        assert_paid_through_webhook(purchase, payment, days=7)
        assert promoted_profile_ids() == {profile.pk}

        # The Sorotan tab now lists the running promotion.
        page.locator("a[href='/companion/sorotan/']").first.click()
        expect(page).to_have_url(re.compile(r"/companion/sorotan/$"))
        periods = page.locator("[data-testid=periods] li")
        expect(periods).to_have_count(1)
        expect(periods).to_contain_text(sorotan_package.name)
        expect(periods).to_contain_text(gettext_id("Running"))
        no_sideways_scroll(page)

        # ---- After: the same search shows Ayu first, labelled as promoted -------------------------------
        cards = search_cards(visitor)
        first = cards.first
        expect(first).to_contain_text(profile.display_name)
        expect(first.locator(f"a[href^='/c/{profile.slug}/']").first).to_be_attached()
        label = first.locator("[data-testid=promoted]")
        expect(label).to_be_visible()
        expect(label).to_have_text(gettext_id("Promoted"))
        expect(visitor.locator("[data-testid=promoted]")).to_have_count(1)  # only the promoted one is labelled
        expect(cards.nth(1)).to_contain_text(others[0].display_name)
        expect(cards.nth(2)).to_contain_text(others[1].display_name)
        no_sideways_scroll(visitor)
        save_screenshot(visitor, artifacts_dir / f"sorotan-search-promoted-{size}.png")


@VIEWPORTS
def test_a_customer_buys_plus_and_books_with_half_the_service_fee(
    page: Page, live_server, artifacts_dir, reference_data, viewport
):
    _sorotan_package, plus_package = create_packages()
    profile = ayu_in_jakarta(rate=RATE, min_hours=HOURS, activities=("hangout",))
    customer = CustomerFactory(email="dewi.plus@example.id", full_name="Dewi Anggraini")
    subtotal = RATE * HOURS
    service_fee = subtotal * 10 // 100
    plus_discount = service_fee // 2
    total = subtotal + service_fee - plus_discount
    assert (plus_discount, total) == (15_000, 315_000)
    size = size_of(viewport)

    # ---- The customer buys the 30-day pass -------------------------------------------------------------
    page.goto("/accounts/login/")
    log_in(page, customer.email, TEST_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/plus/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kompanion Plus")
    expect(page.locator("[data-testid=member]")).to_have_count(0)
    form = page.locator("form").filter(has=page.locator("input[name=package]"))
    package_choice = form.locator(f"input[name=package][value='{plus_package.pk}']")
    expect(package_choice).to_have_count(1)
    expect(form.locator("input[name=package]")).to_have_count(1)  # the Sorotan package is not offered here
    package_choice.check()
    no_sideways_scroll(page)
    save_screenshot(page, artifacts_dir / f"plus-buy-{size}.png")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/payments/simulator/[^/]+/$"))
    purchase = Purchase.objects.get(buyer=customer, product=Product.PLUS)
    assert (purchase.package_id, purchase.price, purchase.profile_id) == (plus_package.pk, 49_000, None)
    assert not is_plus_member(customer)
    payment = pay_with_qris_in_simulator(page, purchase)

    expect_paid_purchase_page(page, purchase)
    assert_paid_through_webhook(purchase, payment, days=30)
    assert is_plus_member(customer)
    page.locator("a[href='/plus/']").filter(has_text="Kompanion Plus").first.click()
    expect(page).to_have_url(re.compile(r"/plus/$"))
    member = page.locator("[data-testid=member]")
    expect(member).to_be_visible()
    expect(member).to_contain_text(gettext_id("You are a Plus member until %(date)s.").split("%(date)s")[0].strip())
    expect(page.locator("[data-testid=periods] li")).to_have_count(1)
    no_sideways_scroll(page)
    save_screenshot(page, artifacts_dir / f"plus-member-{size}.png")

    # ---- The member picks a time on a companion's profile ----------------------------------------------
    tomorrow = timezone.localdate(timezone=JAKARTA) + timedelta(days=1)
    start = datetime.combine(tomorrow, time(14, 0), tzinfo=JAKARTA)
    page.goto(f"/c/{profile.slug}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(profile.display_name)
    panel_id = f"day-{tomorrow.isoformat()}"
    page.locator(f"a[data-day-tab='{panel_id}']").click()
    panel = page.locator(f"#{panel_id}")
    expect(panel).to_be_visible()
    slot = panel.locator("a.slot--link").filter(has_text=re.compile(r"^\s*14\.00\s*$"))
    expect(slot).to_have_count(1)
    slot.click()

    expect(page).to_have_url(re.compile(rf"/c/{re.escape(profile.slug)}/book/\?start=.+&hours={HOURS}$"))
    form = page.locator("form#booking-form")
    breakdown = form.locator(".price-breakdown")
    plus_line = breakdown.locator("[data-testid=plus-discount]")
    expect(plus_line).to_be_visible()
    expect(plus_line.locator("dt")).to_have_text(gettext_id("Kompanion Plus: ½ service fee"))
    expect(plus_line.locator("dd")).to_have_text(f"−{rupiah_id(plus_discount)}")
    expect(breakdown).to_contain_text(rupiah_id(service_fee))
    expect(breakdown.locator(".price-breakdown__total dd")).to_have_text(rupiah_id(total))
    if viewport == PHONE:
        expect(page.locator(".booking-submit")).to_contain_text(rupiah_id(total))
    no_sideways_scroll(page)
    save_screenshot(page, artifacts_dir / f"plus-booking-request-{size}.png")

    # ---- The request keeps the member's discount -------------------------------------------------------
    send_booking_request(page, MEETING_PLACE)
    booking = Booking.objects.get(customer=customer)
    assert page.url.endswith(f"/bookings/{booking.reference}/")
    assert booking.start == start and booking.hours == HOURS
    assert (booking.subtotal, booking.service_fee, booking.discount, booking.total) == (
        subtotal,
        service_fee,
        plus_discount,
        total,
    )
    assert MemberSaving.objects.get(booking=booking).amount == plus_discount
    expect(page.locator(".price-breakdown").first).to_contain_text(f"−{rupiah_id(plus_discount)}")
    expect(page.locator(".price-breakdown").first).to_contain_text(rupiah_id(total))
    save_screenshot(page, artifacts_dir / f"plus-booking-requested-{size}.png")
