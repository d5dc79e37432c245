"""Browser journey (issue 15): a meeting is checked in and ended, in two real browsers at once.

A confirmed booking that began 30 minutes ago. Run once with the customer on a phone (360x800) and the
companion on a desktop (1280x800), once the other way round:
1. the customer opens the booking page and sees the 4-digit check-in code on the safety card;
2. the companion opens theirs (no code shown there), types a wrong code and is told it is not the code, with
   4 tries left; then the right code: "You met at ...";
3. the customer reloads: the code is gone, "met" is shown; the customer ends the meeting ("all good");
4. the companion reloads and ends it too; neither page offers to end it again.
At 360 px no page scrolls sideways. Visible text is compared through the Indonesian catalogue (the default)."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from safety.meeting import meeting_for
from safety.models import Meeting
from tests.e2e.helpers import DESKTOP, PHONE, browser_context, log_in, save_screenshot, seed_reference_data
from tests.factories import TEST_PASSWORD
from tests.safety.meeting_helpers import confirmed_booking


def t(message: str) -> str:
    with translation.override("id"):
        return str(translation.gettext(message))


def log_in_at(page: Page, email: str, path: str) -> None:
    page.goto(f"/accounts/login/?next={path}")
    log_in(page, email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))


def no_sideways_scroll(page: Page, viewport: dict) -> None:
    if viewport != PHONE:
        return
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: scrollWidth {width[0]} > innerWidth {width[1]}"


@pytest.mark.parametrize(
    ("customer_size", "companion_size"),
    [(PHONE, DESKTOP), (DESKTOP, PHONE)],
    ids=["customer-phone_companion-desktop", "customer-desktop_companion-phone"],
)
def test_the_companion_checks_in_with_the_customers_code_and_both_end_the_meeting(
    browser, live_server, artifacts_dir, transactional_db, customer_size, companion_size
):
    seed_reference_data()
    booking = confirmed_booking()
    code = meeting_for(booking).code
    wrong = f"{(int(code) + 1) % 10000:04d}"
    path = f"/bookings/{booking.reference}/"
    label = "customer-phone" if customer_size == PHONE else "customer-desktop"

    with (
        browser_context(browser, live_server.url, customer_size) as customer_context,
        browser_context(browser, live_server.url, companion_size) as companion_context,
    ):
        customer, companion = customer_context.new_page(), companion_context.new_page()
        log_in_at(customer, booking.customer.email, path)
        log_in_at(companion, booking.companion.user.email, path)

        # ---- 1. The customer sees the code -----------------------------------------------------------------
        card = customer.locator("[data-safety-card]")
        expect(card.locator("[data-checkin-code]")).to_have_text(code)
        no_sideways_scroll(customer, customer_size)
        save_screenshot(customer, artifacts_dir / f"meeting-code-{label}.png")

        # ---- 2. The companion: a wrong code, then the right one ---------------------------------------------
        form = companion.locator("[data-checkin-form]")
        expect(companion.locator("[data-checkin-code]")).to_have_count(0)
        expect(companion.locator("main")).not_to_contain_text(code)
        form.locator("input[name=code]").fill(wrong)
        form.get_by_role("button", name=t("We met")).click()
        told = t("That is not the code. Ask the customer to read it from their booking page. Tries left: %(left)s.")
        expect(companion.get_by_text(told % {"left": 4})).to_be_visible()
        assert wrong not in companion.url and code not in companion.url
        assert Meeting.objects.get(booking=booking).code_attempts == 1
        no_sideways_scroll(companion, companion_size)
        form.locator("input[name=code]").fill(code)
        form.get_by_role("button", name=t("We met")).click()
        expect(companion.get_by_text(t("Checked in: you have met. Have a good time!"))).to_be_visible()
        expect(companion.locator("[data-met]")).to_be_visible()
        assert code not in companion.url
        save_screenshot(companion, artifacts_dir / f"meeting-met-{label}.png")

        # ---- 3. The customer: met, the code gone; ends the meeting ------------------------------------------
        customer.reload()
        expect(card.locator("[data-checkin-code]")).to_have_count(0)
        expect(card.locator("[data-met]")).to_be_visible()
        card.locator("[data-end-meeting]").click()
        expect(customer.get_by_text(t("Meeting ended. Glad all went well!"))).to_be_visible()
        expect(card.locator("[data-met]")).to_contain_text(t("The meeting was ended: all good."))
        expect(card.locator("[data-end-meeting]")).to_have_count(0)
        no_sideways_scroll(customer, customer_size)

        # ---- 4. The companion ends it too ---------------------------------------------------------------------
        companion.reload()
        companion.locator("[data-end-meeting]").click()
        expect(companion.get_by_text(t("Meeting ended. Glad all went well!"))).to_be_visible()
        expect(companion.locator("[data-end-meeting]")).to_have_count(0)

    meeting = Meeting.objects.get(booking=booking)
    assert meeting.met_at and meeting.customer_ended_at and meeting.companion_ended_at
    assert meeting.code_attempts == 1
