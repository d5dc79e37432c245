"""Messages between a customer and a companion, in two real browsers at once on one live server (issue 14).

Each run has one person on a phone (360x800) and the other on a desktop (1280x800), each reading their own
language (preferred_language); the second run swaps the widths and the languages, and its request has no
note, so its conversation starts empty:
1. the customer picks a free time on the companion's profile and sends a booking request through the
   booking form (a note becomes the conversation's first message); the companion opens Messages (on a
   phone through the menu), finds the conversation (unread when there is a note) and keeps it open;
2. the customer opens the conversation from the booking page ("Open the conversation"), types "WA aku ya
   0812 3456 7890" and, while typing, sees the warning that contact details stay hidden until payment;
   Enter sends it: the customer sees it as written, noted "hidden from the other side", and can type on;
3. the companion sees it arrive without reloading (HTMX polling), the number replaced by "[number hidden]"
   / "[nomor disembunyikan]", and replies with the Send button; the customer sees the reply without
   reloading (in the first run only once the tab, faked hidden while the reply was sent, is visible
   again: no poll is made meanwhile);
4. both see every message once, in order; a poll that brings back messages already shown (as when a poll
   and a send cross) adds nothing;
5. the customer reports the companion's message ("Report" beside it: a category and details) and sees the
   thanks; the report holds that message and the ones before it, as written;
6. the customer blocks the companion from the conversation: the composer is gone; the companion's page,
   still open, is refused when it sends, and after a reload has no composer either (its poll still
   answers 204, not the whole conversation again); the customer's new booking request to the companion
   is refused, and the companion has left the customer's search;
7. the customer unblocks in the account settings: both composers are back and a message gets through.
Polls answer 204 while nothing is new. At 360 px no page scrolls sideways. The booking form itself is
test_booking_journey.py's; here it is only the way in. Visible text is compared through the catalogues
of the reader's language.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Locator, Page, Request, Response, expect

from accounts.models import Block
from bookings.models import Booking, BookingStatus
from chat.models import Message, Report
from companions.models import CompanionProfile
from tests.companions.helpers import listed_companion
from tests.e2e.helpers import DESKTOP, PHONE, browser_context, log_in, save_screenshot, seed_reference_data
from tests.factories import TEST_PASSWORD, CustomerFactory

JAKARTA = ZoneInfo("Asia/Jakarta")
EVERY_DAY_10_TO_20 = [(weekday, 10 * 60, 10 * 60) for weekday in range(7)]
HOURS = 2
MEETING_PLACE = "Kopi Tuku, Grand Indonesia"
NOTE = "Halo kak, mau ditemani kulineran di Blok M ya."
WITH_PHONE = "WA aku ya 0812 3456 7890"
WITH_PHONE_HIDDEN = "WA aku ya {hidden}"  # as the companion reads it before payment
REPLY = "Boleh kak, ngobrol di sini aja ya. Sampai ketemu!"
REFUSED = "Halo? Kenapa diblokir?"
AFTER_UNBLOCK = "Oke kak, sampai ketemu besok."
REPORT_DETAILS = "Dia terus mengirim pesan yang tidak sopan."
POLL_EVERY_S = 4  # conversation.html: hx-trigger="every 4s"
CONTACTS_WARNING = (
    "Contact details are hidden from the other side until the booking is paid. Stay on Kompanion: your payment "
    "and your safety are protected only here."
)
BLOCKED = "You cannot send messages here: one of you blocked the other."
EMPTY = "No messages yet. Say hello!"


@dataclass
class Person:
    page: Page
    role: str  # "customer" or "companion"
    language: str
    phone: bool

    def t(self, message: str) -> str:
        with translation.override(self.language):
            return str(translation.gettext(message))


@dataclass(frozen=True)
class Said:
    by: str  # "customer" or "companion"
    text: str  # as written
    seen_by_other: str = ""  # as the other side reads it, when different ({hidden}: the placeholder)


def expect_conversation(person: Person, said: list[Said]) -> None:
    """Exactly these messages, as this person reads them, once each and in order, theirs marked theirs."""
    page = person.page
    texts = [
        entry.seen_by_other.format(hidden=person.t("[number hidden]"))
        if entry.by != person.role and entry.seen_by_other
        else entry.text
        for entry in said
    ]
    expect(messages(page)).to_have_count(len(said))
    expect(messages(page).locator(".chat-message__text")).to_have_text(texts)
    mine = messages(page).evaluate_all("items => items.map(item => item.classList.contains('chat-message--mine'))")
    assert mine == [entry.by == person.role for entry in said]
    ids = message_ids(page)
    assert ids == sorted(set(ids)), ids
    if said:
        expect(page.locator("main")).not_to_contain_text(person.t(EMPTY))


def messages(page: Page) -> Locator:
    return page.locator("#messages [data-message-id]")


def message_ids(page: Page) -> list[int]:
    return [int(value) for value in messages(page).evaluate_all("items => items.map(item => item.dataset.messageId)")]


def composer(page: Page) -> Locator:
    return page.locator("form#composer")


def message_box(page: Page) -> Locator:
    return composer(page).locator("textarea[name=text]")


def send_button(person: Person) -> Locator:
    return composer(person.page).get_by_role("button", name=person.t("Send"), exact=True)


def expect_no_sideways_scroll(person: Person) -> None:
    if not person.phone:
        return
    width = person.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: scrollWidth {width[0]} > innerWidth {width[1]}"


def log_in_as(person: Person, email: str) -> None:
    person.page.goto("/accounts/login/")
    log_in(person.page, email, TEST_PASSWORD)
    expect(person.page).not_to_have_url(re.compile(r"/accounts/login/"))
    expect(person.page.locator("html")).to_have_attribute("lang", person.language)


def open_messages(person: Person) -> None:
    """The header's "Messages": in the menu on a phone, beside the logo on a desktop."""
    banner = person.page.get_by_role("banner")
    if person.phone:
        banner.locator("summary[aria-label]").filter(visible=True).click()
    banner.get_by_role("link", name=person.t("Messages"), exact=True).filter(visible=True).click()
    expect(person.page).to_have_url(re.compile(r"/messages/$"))


def mark_page(page: Page) -> None:
    """A mark that a reload or a navigation would wipe."""
    page.evaluate("window.__sameDocument = true")


def expect_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def is_poll(exchange: Response | Request) -> bool:
    return re.search(r"/messages/[^/]+/poll/", exchange.url) is not None


def record_polls(page: Page) -> list[int]:
    """The status of every poll this page answers from now on."""
    statuses: list[int] = []
    page.on("response", lambda response: statuses.append(response.status) if is_poll(response) else None)
    return statuses


def record_poll_requests(page: Page) -> list[str]:
    """Every poll this page sends from now on, when it is sent (a poll sent just before the tab was hidden may
    be answered after: its answer says nothing about polling while hidden)."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if is_poll(request) else None)
    return sent


def poll_now(page: Page) -> int:
    """The page's poll made at once, as its 4 s timer makes it (same element, same hx-include); its status."""
    with page.expect_response(is_poll) as response:
        page.evaluate(
            "() => htmx.ajax('GET', document.getElementById('chat-poll').getAttribute('hx-get'),"
            " {source: '#chat-poll', swap: 'none'})"
        )
    return response.value.status


def set_tab_hidden(page: Page, hidden: bool) -> None:
    """Headless tabs are always visible: fake the Page Visibility API that app.js reads."""
    page.evaluate(
        """hidden => {
            const state = hidden ? "hidden" : "visible";
            Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
            Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def fill_booking_form(page: Page, note: str) -> None:
    form = page.locator("form#booking-form")
    form.locator("input[name=activity][value=culinary]").check()
    form.locator("input[name=meeting_place]").fill(MEETING_PLACE)
    form.locator("textarea[name=note]").fill(note)
    form.locator("input[name=safety]").check()
    form.locator(".booking-submit button[type=submit]").click()


def request_booking(page: Page, profile: CompanionProfile, start: datetime, note: str) -> None:
    """Profile -> the day's free time -> the booking form -> "Send request"; lands on the booking page."""
    page.goto(reverse("companions:profile", args=[profile.slug]))
    panel_id = f"day-{start.date().isoformat()}"
    page.locator(f"a[data-day-tab='{panel_id}']").click()
    slots = page.locator(f"#{panel_id} a.slot--link")
    expect(slots.first).to_be_visible()
    # Each <time> gives its moment in the reader's zone: compare moments, not texts.
    moments = slots.locator("time").evaluate_all("times => times.map(t => Date.parse(t.getAttribute('datetime')))")
    slots.nth(moments.index(int(start.timestamp() * 1000))).click()
    expect(page).to_have_url(re.compile(rf"/c/{re.escape(profile.slug)}/book/\?start=.+&hours={HOURS}$"))
    fill_booking_form(page, note)
    expect(page).to_have_url(re.compile(r"/bookings/KMP-[A-Z0-9]+/$"))


def toasts_wrong(page: Page, expected: list[str]) -> str:
    """Empty when the page's toasts (its flash messages) are exactly `expected`, else what they are instead."""
    page.wait_for_load_state("domcontentloaded")
    shown = [text.strip() for text in page.locator("#toasts .toast p").all_inner_texts()]
    return "" if shown == expected else f"{page.url}: toasts {shown!r}, expected {expected!r}"


RUNS = [
    pytest.param(PHONE, "id", DESKTOP, "en", NOTE, True, id="customer-phone-id_companion-desktop-en"),
    pytest.param(DESKTOP, "en", PHONE, "id", "", False, id="customer-desktop-en_companion-phone-id_no-note"),
]


@pytest.mark.parametrize(("customer_size", "customer_language", "companion_size", "companion_language", "note",
                          "hide_tab"), RUNS)  # fmt: skip
def test_customer_and_companion_talk_report_block_and_unblock(
    browser, live_server, artifacts_dir, transactional_db,
    customer_size, customer_language, companion_size, companion_language, note, hide_tab,
):  # fmt: skip
    seed_reference_data()
    profile = listed_companion(
        name="Ayu", ranges=EVERY_DAY_10_TO_20, rate=150_000, min_hours=HOURS, max_hours=6,
        activities=("hangout", "culinary"),
    )  # fmt: skip
    companion_user = profile.user
    companion_user.full_name = "Ayu Lestari"
    companion_user.preferred_language = companion_language
    companion_user.save(update_fields=["full_name", "preferred_language"])
    customer_user = CustomerFactory(full_name="Budi Santoso", preferred_language=customer_language)
    start = datetime.combine(timezone.localdate(timezone=JAKARTA) + timedelta(days=1), time(14, 0), tzinfo=JAKARTA)
    label = "customer-phone" if customer_size == PHONE else "customer-desktop"
    said = [Said("customer", note)] if note else []

    with (
        browser_context(browser, live_server.url, customer_size) as customer_context,
        browser_context(browser, live_server.url, companion_size) as companion_context,
    ):
        customer = Person(customer_context.new_page(), "customer", customer_language, customer_size == PHONE)
        companion = Person(companion_context.new_page(), "companion", companion_language, companion_size == PHONE)
        companion_polls = record_polls(companion.page)
        customer_poll_requests = record_poll_requests(customer.page)
        log_in_as(customer, customer_user.email)
        log_in_as(companion, companion_user.email)

        # ---- 1. The request; the companion opens the conversation and keeps it open ----------------------
        request_booking(customer.page, profile, start, note)
        booking = Booking.objects.get(customer=customer_user)
        assert booking.status == BookingStatus.REQUESTED and booking.paid_at is None  # contacts stay hidden
        conversation_url = reverse("chat:conversation", args=[booking.reference])

        open_messages(companion)
        item = companion.page.locator(f"a[data-conversation='{booking.reference}']")
        if note:
            expect(item).to_contain_text(note)
            expect(item.locator("[data-unread]")).to_be_visible()
        else:
            expect(item).to_contain_text(companion.t("No messages yet."))
            expect(item.locator("[data-unread]")).to_have_count(0)
        expect_no_sideways_scroll(companion)
        item.click()
        expect(companion.page).to_have_url(re.compile(rf"{re.escape(conversation_url)}$"))
        expect(companion.page.get_by_role("heading", level=1)).to_have_text(customer_user.get_short_name())
        expect_conversation(companion, said)
        if not note:
            expect(companion.page.locator("main")).to_contain_text(companion.t(EMPTY))
        mark_page(companion.page)

        # ---- 2. The customer writes a phone number: warned while typing, sends with Enter ----------------
        customer.page.get_by_role("link", name=customer.t("Open the conversation")).click()
        expect(customer.page).to_have_url(re.compile(rf"{re.escape(conversation_url)}$"))
        expect(customer.page.get_by_role("heading", level=1)).to_have_text(companion_user.get_short_name())
        expect_conversation(customer, said)
        assert not toasts_wrong(customer.page, [])
        mark_page(customer.page)
        box, warning = message_box(customer.page), customer.page.locator("#chat-warning")
        box.press_sequentially(WITH_PHONE)
        expect(warning).to_contain_text(customer.t(CONTACTS_WARNING))  # before sending, and why
        expect_no_sideways_scroll(customer)
        save_screenshot(customer.page, artifacts_dir / f"chat-warning-{label}.png")
        box.press("Enter")
        said.append(Said("customer", WITH_PHONE, WITH_PHONE_HIDDEN))
        expect_conversation(customer, said)
        expect(messages(customer.page).last).to_contain_text(
            customer.t("contact details hidden from the other side until payment")
        )
        expect(box).to_have_value("")
        expect(warning).to_be_empty()
        expect(box).to_be_focused()  # the next message can be typed at once
        stored = Message.objects.filter(conversation__booking=booking).order_by("pk").last()
        assert (stored.sender_id, stored.text, stored.masked) == (customer_user.pk, WITH_PHONE, True)

        # ---- 3. The companion sees it, masked, without reloading; replies with the button -----------------
        expect_conversation(companion, said)
        expect(companion.page.locator("#messages")).not_to_contain_text("0812")
        expect(companion.page.locator("#messages")).not_to_contain_text("7890")
        expect_not_reloaded(companion.page)
        assert 200 in companion_polls, companion_polls  # a poll brought it
        if hide_tab:  # the customer's tab is in the background while the reply comes
            set_tab_hidden(customer.page, True)
            polls_before = len(customer_poll_requests)
        message_box(companion.page).fill(REPLY)
        send_button(companion).click()
        said.append(Said("companion", REPLY))
        expect_conversation(companion, said)
        expect(message_box(companion.page)).to_have_value("")
        expect_no_sideways_scroll(companion)
        save_screenshot(companion.page, artifacts_dir / f"chat-companion-{label}.png")
        if hide_tab:
            customer.page.wait_for_timeout((POLL_EVERY_S + 1) * 1000)
            sent_while_hidden = customer_poll_requests[polls_before:]
            assert not sent_while_hidden, sent_while_hidden  # none while hidden
            expect(messages(customer.page)).to_have_count(len(said) - 1)
            set_tab_hidden(customer.page, False)

        # ---- 4. The customer sees the reply without reloading; every message once, in order ---------------
        expect_conversation(customer, said)
        expect_not_reloaded(customer.page)
        expect(messages(customer.page).last).to_be_in_viewport()
        # A poll that crosses a send brings back messages already shown: none is shown twice.
        after = customer.page.locator("#chat-after")
        newest = after.input_value()
        after.evaluate("input => { input.value = '0'; }")
        assert poll_now(customer.page) == 200
        expect(after).to_have_value(newest)
        expect_conversation(customer, said)
        assert poll_now(customer.page) == 204  # nothing new
        # The companion's own timer may not have fired since (a loaded machine): its next poll, made now.
        assert 204 in companion_polls or poll_now(companion.page) == 204, companion_polls
        expect_no_sideways_scroll(customer)
        save_screenshot(customer.page, artifacts_dir / f"chat-customer-{label}.png")
        reply_id = message_ids(customer.page)[-1]

        # ---- 5. The customer reports the companion's message -------------------------------------------
        customer.page.locator(f"#m-{reply_id}").get_by_role("link", name=customer.t("Report"), exact=True).click()
        expect(customer.page).to_have_url(re.compile(rf"/messages/{booking.reference}/report/\?message={reply_id}$"))
        expect(customer.page.get_by_role("heading", level=1)).to_have_text(customer.t("Report this message"))
        expect(customer.page.locator("[data-reported]")).to_have_text(REPLY)  # the message being reported
        expect_no_sideways_scroll(customer)
        customer.page.get_by_label(customer.t("Harassment, threats or insults")).check()
        customer.page.get_by_label(customer.t("Details for our team (optional)")).fill(REPORT_DETAILS)
        customer.page.get_by_role("button", name=customer.t("Send report")).click()
        expect(customer.page).to_have_url(re.compile(rf"{re.escape(conversation_url)}$"))
        report = Report.objects.get()
        assert (report.reporter_id, report.reported_id, report.message_id) == (
            customer_user.pk, companion_user.pk, reply_id
        )  # fmt: skip
        assert (report.category, report.details) == ("harassment", REPORT_DETAILS)
        assert [entry["text"] for entry in report.evidence] == [entry.text for entry in said]  # as written
        thanks = customer.t("Thank you. Our safety team will look at it; what was written is kept.")
        assert not toasts_wrong(customer.page, [thanks])

        # ---- 6. The customer blocks: neither can write, the request is refused ----------------------------
        customer.page.get_by_role("button", name=customer.t("Block"), exact=True).click()
        expect(composer(customer.page)).to_have_count(0)
        expect(customer.page.locator("main")).to_contain_text(customer.t(BLOCKED))
        expect_conversation(customer, said)
        expect_no_sideways_scroll(customer)
        assert Block.objects.filter(blocker=customer_user, blocked=companion_user).exists()
        blocked = "Blocked. Neither of you can write to the other or send a request. You can undo it in your settings."
        assert not toasts_wrong(customer.page, [customer.t(blocked)])

        # The companion's page was open with its composer: sending is refused, nothing is stored.
        message_box(companion.page).fill(REFUSED)
        send_button(companion).click()
        expect(composer(companion.page).locator("[data-error-summary]")).to_contain_text(companion.t(BLOCKED))
        expect(message_box(companion.page)).to_have_value(REFUSED)  # kept, not lost
        expect_conversation(companion, said)
        assert Message.objects.filter(conversation__booking=booking).count() == len(said)
        companion.page.reload()
        expect(composer(companion.page)).to_have_count(0)
        expect(companion.page.locator("main")).to_contain_text(companion.t(BLOCKED))
        expect_conversation(companion, said)
        assert poll_now(companion.page) == 204  # without a composer it still knows the newest message shown
        expect_no_sideways_scroll(companion)
        save_screenshot(companion.page, artifacts_dir / f"chat-blocked-companion-{label}.png")

        # A new request to the companion is refused, and the companion has left the customer's search.
        later = start + timedelta(days=1)
        customer.page.goto(
            f"{reverse('bookings:new', args=[profile.slug])}?start={quote(later.isoformat())}&hours={HOURS}"
        )
        fill_booking_form(customer.page, "")
        expect(customer.page.locator("[data-error-summary]")).to_contain_text(
            customer.t("You cannot send a request to this companion.")
        )
        assert Booking.objects.filter(customer=customer_user).count() == 1
        customer.page.goto(reverse("companions:search"))
        expect(customer.page.locator("#results")).to_be_visible()
        profile_link = f"#results a[href='{reverse('companions:profile', args=[profile.slug])}']"
        expect(customer.page.locator(profile_link)).to_have_count(0)

        # ---- 7. Unblocked from the settings: both can write again -------------------------------------
        customer.page.goto(f"{reverse('accounts:settings')}#blocked")
        row = customer.page.locator("main li").filter(has_text=companion_user.get_short_name())
        expect(row).to_have_count(1)
        expect_no_sideways_scroll(customer)
        row.get_by_role("button", name=customer.t("Unblock"), exact=True).click()
        expect(customer.page.locator("#toasts")).to_contain_text(customer.t("Unblocked."))
        expect(customer.page.locator("main")).to_contain_text(customer.t("You have not blocked anybody."))
        assert not Block.objects.exists()
        customer.page.goto(conversation_url)
        expect(composer(customer.page)).to_be_visible()
        mark_page(customer.page)
        companion.page.reload()
        message_box(companion.page).fill(AFTER_UNBLOCK)
        message_box(companion.page).press("Enter")
        said.append(Said("companion", AFTER_UNBLOCK))
        expect_conversation(companion, said)
        expect_conversation(customer, said)
        expect_not_reloaded(customer.page)
