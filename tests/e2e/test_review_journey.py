"""Reviews after a completed booking, in real browsers on one live server (issue 13):
1. a booking is completed (made through the services, as its earlier steps have their own journeys), and
   the companion already has two published reviews from earlier customers;
2. the customer, on a phone (360x800), opens the booking, follows "Write a review", gives stars and a
   text and sends it: the booking page says it waits for the companion's review;
3. the companion, on a desktop, writes theirs: both are published together, and the companion now reads
   the customer's review; the customer never reads the companion's review of them;
4. the companion's profile and the search card show the rating from three published reviews.
Visible text is compared through the Indonesian catalogue (gettext_id)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from bookings import services as booking_services
from companions import selectors
from companions.models import Activity, CompanionProfile
from reviews import services as review_services
from reviews.models import Review
from tests.companions.helpers import listed_companion
from tests.e2e.helpers import DESKTOP, PHONE, browser_context, gettext_id, log_in, save_screenshot, seed_reference_data
from tests.factories import TEST_PASSWORD, CustomerFactory

EVERY_DAY_8_TO_22 = [(weekday, 8 * 60, 14 * 60) for weekday in range(7)]
STARS = {"overall": 5, "punctuality": 5, "communication": 4, "as_described": 5, "respected_boundaries": 5}
CUSTOMER_TEXT = "Ayu ramah dan tepat waktu, tur kulinernya seru."
COMPANION_TEXT = "Pelanggan sopan dan jelas permintaannya."


def completed_booking(profile, customer, *, days_ago: int):
    """Requested, accepted and paid `days_ago` days ago for the next day, completed by the sweep now."""
    then = timezone.now() - timedelta(days=days_ago)
    profile = CompanionProfile.objects.prefetch_related("weekly_hours", "time_off").get(pk=profile.pk)
    start = selectors.free_start_times(
        profile, start=then + timedelta(days=1), end=then + timedelta(days=2), hours=2, now=then
    )[0]
    booking = booking_services.booking_request(
        customer=customer,
        profile=profile,
        start=start,
        hours=2,
        activity=Activity.objects.get(slug="culinary"),
        meeting_place="Sarinah, Jalan M.H. Thamrin",
        now=then,
    )
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=then + timedelta(minutes=10))
    booking_services.booking_mark_paid(booking_id=booking.pk, now=then + timedelta(minutes=20))
    booking_services.bookings_sweep()
    booking.refresh_from_db()
    return booking


def write_review(page: Page, text: str) -> None:
    for name, value in STARS.items():
        page.check(f"input[name={name}][value='{value}']")
    page.fill("textarea[name=text]", text)
    page.get_by_role("button", name=gettext_id("Send review")).click()


@pytest.fixture
def companion_page(browser, live_server) -> Page:
    with browser_context(browser, live_server.url, DESKTOP) as context:
        yield context.new_page()


@pytest.mark.parametrize("viewport", [PHONE], ids=["customer-phone-360x800"])
def test_both_sides_review_and_the_rating_shows(
    page: Page, companion_page: Page, artifacts_dir, transactional_db, viewport
):
    seed_reference_data()
    profile = listed_companion(
        name="Ayu", ranges=EVERY_DAY_8_TO_22, rate=150_000, min_hours=2, max_hours=6, activities=("hangout", "culinary")
    )
    for days_ago in (9, 8):  # two earlier customers' published reviews
        earlier = completed_booking(profile, CustomerFactory(), days_ago=days_ago)
        for author in (earlier.customer, profile.user):
            review_services.review_submit(booking_id=earlier.pk, author=author, stars={**STARS, "overall": 4})
    customer = CustomerFactory(email="rina.wijaya@example.id", full_name="Rina Wijaya")
    booking = completed_booking(profile, customer, days_ago=5)
    detail = reverse("bookings:detail", args=[booking.reference])

    # ---- The customer, on a phone ------------------------------------------------------------------
    page.goto(detail)
    log_in(page, customer.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(rf"{re.escape(detail)}$"))
    page.get_by_role("link", name=gettext_id("Write a review")).click()
    expect(page).to_have_url(re.compile(r"/review/$"))
    save_screenshot(page, artifacts_dir / "review-form-phone.png")
    write_review(page, CUSTOMER_TEXT)
    expect(page).to_have_url(re.compile(rf"{re.escape(detail)}$"))
    expect(page.locator("[data-review-card]")).to_contain_text(
        gettext_id("Your review is sent. It is published when the other side has written theirs.")
    )
    save_screenshot(page, artifacts_dir / "review-customer-phone.png")

    # ---- The companion, on a desktop ---------------------------------------------------------------
    companion_page.goto(detail)
    log_in(companion_page, profile.user.email, TEST_PASSWORD)
    expect(companion_page).to_have_url(re.compile(rf"{re.escape(detail)}$"))
    companion_page.get_by_role("link", name=gettext_id("Write a review")).click()
    expect(companion_page.locator("body")).not_to_contain_text(CUSTOMER_TEXT)  # blind until both wrote
    write_review(companion_page, COMPANION_TEXT)
    expect(companion_page.locator("body")).to_contain_text(gettext_id("Thank you. Both reviews are now published."))
    companion_page.goto(reverse("reviews:write", args=[booking.reference]))
    expect(companion_page.locator("[data-review=of_companion]")).to_contain_text(CUSTOMER_TEXT)
    assert Review.objects.filter(booking=booking, published_at__isnull=False).count() == 2

    # ---- The customer reads only their own review; the rating shows ----------------------------------
    page.goto(reverse("reviews:write", args=[booking.reference]))
    expect(page.locator("[data-review=of_companion]")).to_contain_text(CUSTOMER_TEXT)
    expect(page.locator("body")).not_to_contain_text(COMPANION_TEXT)
    page.goto(reverse("companions:profile", args=[profile.slug]))
    expect(page.locator("[data-rating]").first).to_contain_text("3 ulasan")
    expect(page.locator("[data-rating]").first).to_contain_text("4,1")  # Bayesian: (4 x 5 + 4 + 4 + 5) / 8
    page.goto(reverse("companions:search"))
    expect(page.locator("[data-rating]").first).to_contain_text("3 ulasan")
    save_screenshot(page, artifacts_dir / "review-search-phone.png")
