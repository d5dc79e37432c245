"""Invite a friend (issue 16), on a phone (360x800) and on a desktop (1280x800), on a live server:
1. customer A opens Settings → Invite friends: their link (absolute, /r/<CODE>/) and code, and a WhatsApp
   button that opens wa.me with the message carrying the link; no invitations yet;
2. friend B, in a fresh browser, opens the link: the invitation's offer; "Sign up to book" leads to the
   sign-up form with the invitation code filled in; B signs up, which records the invitation, confirms the
   email, logs in and proves the WhatsApp number with the code sent there;
3. B's first request shows the raised "invited friend's discount" (25% here, where a new member without an
   invitation gets 10%) in the price, and B sends it with that discount frozen;
4. the companion accepts (their own desktop browser); B pays with QRIS in the payment simulator, whose signed
   notification reaches the live server's webhook;
5. time passes: the deadline job runs past the booking's end + 24 h and completes it; the reward is issued
   after that commit (A's voucher);
6. A reloads Invite friends: B's invitation is "Rewarded" with the voucher, offered under "Your rewards";
7. A books: the request page takes the referral voucher off the price; once A sends the request the voucher
   is reserved for it (no longer offered on Invite friends).
Visible text is compared through the Indonesian catalogue (the site's default language)."""

import re
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from accounts.models import User
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from companions.models import Activity
from notifications.models import OutboxMessage
from payments.models import Payment
from promotions import services
from promotions.models import Redemption, Referral, ReferralCode, Voucher
from tests.e2e.helpers import (
    DESKTOP,
    JAKARTA,
    PHONE,
    ayu_in_jakarta,
    booking_request_path,
    browser_context,
    gettext_id,
    log_in,
    rupiah_id,
    save_screenshot,
    send_booking_request,
)
from tests.factories import TEST_PASSWORD, CustomerFactory

HOURS = 2
RATE = 150_000
MEETING_PLACE = "Kopi Tuku, Grand Indonesia"
FRIEND_EMAIL = "bunga.citra@example.id"
FRIEND_PHONE = "0813-5566-7788"
CONFIRM_LINK = re.compile(r"https?://[^\s\"'<>]+/accounts/confirm-email/[^\s\"'<>/]+/")


@pytest.fixture
def programme(settings, live_server):
    settings.SITE_URL = live_server.url  # the invitation link is the site's canonical address
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1000
    settings.WELCOME_DISCOUNT_CAP = 50_000
    settings.REFERRAL_WELCOME_DISCOUNT_BASIS_POINTS = 2500
    settings.REFERRAL_WELCOME_DISCOUNT_CAP = 75_000
    settings.REFERRAL_VOUCHER_AMOUNT = 50_000
    settings.WHATSAPP_BACKEND = "outbox"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-360x800", "desktop-1280x800"])
def test_a_customer_invites_a_friend_who_books_and_the_reward_pays_for_the_next_booking(
    page: Page, browser, live_server, mailoutbox, artifacts_dir, reference_data, programme, viewport
):
    profile = ayu_in_jakarta(rate=RATE, min_hours=HOURS, activities=("hangout",))
    referrer = CustomerFactory(email="sari.wulandari@example.id", full_name="Sari Wulandari")
    hangout = Activity.objects.get(slug="hangout")
    today = timezone.localdate(timezone=JAKARTA)
    friend_start = datetime.combine(today + timedelta(days=2), time(14, 0), tzinfo=JAKARTA)
    referrer_start = datetime.combine(today + timedelta(days=4), time(14, 0), tzinfo=JAKARTA)
    size = f"{viewport['width']}x{viewport['height']}"

    def no_sideways_scroll(on: Page) -> None:
        assert on.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # ---- 1. A opens Invite friends from the settings ---------------------------------------------------
    page.goto("/accounts/login/")
    log_in(page, referrer.email, TEST_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/accounts/settings/")
    page.locator("main a[href='/accounts/invite/']").click()
    expect(page).to_have_url(re.compile(r"/accounts/invite/$"))
    code = ReferralCode.objects.get(user=referrer).code
    link = page.locator("input#invite-link").input_value()
    assert link == f"{live_server.url}/r/{code}/"
    expect(page.locator("input#invite-code")).to_have_value(code)
    share = page.locator("[data-testid=whatsapp-share]")
    expect(share).to_be_visible()
    href = urlparse(share.get_attribute("href"))
    assert (href.scheme, href.netloc, href.path) == ("https", "wa.me", "/")
    assert link in parse_qs(href.query)["text"][0]
    expect(page.locator("[data-testid=invitations]")).to_have_count(0)
    save_screenshot(page, artifacts_dir / f"referral-invite-{size}.png")
    no_sideways_scroll(page)

    with browser_context(browser, live_server.url, viewport) as friend_context:
        friend = friend_context.new_page()

        # ---- 2. B opens the link, signs up with the code filled in, proves the number ----------------------
        friend.goto(link)
        expect(friend.locator("[data-testid=invited-offer]")).to_be_visible()
        expect(friend.locator("main")).to_contain_text("Sari W.")
        save_screenshot(friend, artifacts_dir / f"referral-landing-{size}.png")
        no_sideways_scroll(friend)
        friend.locator("main a[href='/accounts/signup/']").click()
        expect(friend).to_have_url(re.compile(r"/accounts/signup/$"))
        form = friend.locator("form[action='/accounts/signup/']")
        expect(form.locator("input[name=invitation_code]")).to_have_value(code)
        form.locator("label", has=friend.locator("input[name=role][value=customer]")).click()
        form.locator("input[name=full_name]").fill("Bunga Citra")
        form.locator("input[name=email]").fill(FRIEND_EMAIL)
        form.locator("input[name=phone]").fill(FRIEND_PHONE)
        form.locator("input[name=date_of_birth]").fill("1997-03-09")
        form.locator("select[name=time_zone]").select_option("Asia/Jakarta")
        form.locator("input[name=password1]").fill(TEST_PASSWORD)
        form.locator("input[name=password2]").fill(TEST_PASSWORD)
        form.locator("input[name=accept_terms]").check()
        form.locator("button[type=submit]").click()
        expect(friend).to_have_url(re.compile(r"/accounts/confirm-email/$"))
        invited = User.objects.get(email=FRIEND_EMAIL)
        referral = Referral.objects.get(referred=invited)
        assert (referral.referrer_id, referral.status) == (referrer.pk, Referral.Status.PENDING)

        friend.goto(CONFIRM_LINK.search(mailoutbox[-1].body).group(0))
        friend.locator("main form[method=post] button[type=submit]").click()
        expect(friend).to_have_url(re.compile(r"/accounts/login/"))
        log_in(friend, FRIEND_EMAIL, TEST_PASSWORD)
        expect(friend.locator("header form[action='/accounts/logout/']")).to_have_count(1)

        friend.goto("/accounts/phone/verify/")
        friend.locator("main button[name=action][value=send]").click()
        expect(friend.locator("input[name=code]")).to_be_visible()
        sent = OutboxMessage.objects.filter(to=invited.phone).latest("created_at", "id").body
        friend.locator("input[name=code]").fill(re.search(r"\b(\d{6})\b", sent).group(1))
        friend.locator("form[action='/accounts/phone/verify/'] button[type=submit]:not([name])").click()
        expect(friend).to_have_url(re.compile(r"/accounts/settings/$"))
        invited.refresh_from_db()
        assert invited.phone_verified_at is not None

        # ---- 3. B's first request: the invited friend's discount ------------------------------------------
        with translation.override("id"):
            raised, ordinary = (
                services.quote(customer=who, profile=profile, activity=hangout, start=friend_start, hours=HOURS)
                for who in (invited, CustomerFactory())
            )
        assert (raised.source, raised.discount) == ("welcome", 75_000)  # 25% of Rp 300.000
        assert ordinary.discount == 30_000  # 10% for a new member without an invitation
        friend.goto(booking_request_path(profile, friend_start, HOURS))
        breakdown = friend.locator("form#booking-form .price-breakdown")
        expect(breakdown).to_contain_text(raised.label)
        expect(breakdown).to_contain_text(f"−{rupiah_id(75_000)}")
        expect(breakdown.locator(".price-breakdown__total dd")).to_have_text(rupiah_id(raised.total))
        assert raised.label == gettext_id("Invited friend's discount (%(percent)s)") % {"percent": "25%"}
        save_screenshot(friend, artifacts_dir / f"referral-friend-discount-{size}.png")
        no_sideways_scroll(friend)
        send_booking_request(friend, MEETING_PLACE)
        booking = Booking.objects.get(customer=invited)
        assert (booking.discount, booking.total) == (75_000, raised.total)
        assert Redemption.objects.get(booking=booking).source == "welcome"

        # ---- 4. The companion accepts; B pays in the simulator --------------------------------------------
        with browser_context(browser, live_server.url, DESKTOP) as companion_context:
            inbox = companion_context.new_page()
            inbox.goto("/accounts/login/")
            log_in(inbox, profile.user.email, TEST_PASSWORD)
            expect(inbox).not_to_have_url(re.compile(r"/accounts/login/"))
            inbox.goto("/companion/requests/")
            card = inbox.locator("article.request-card").filter(
                has=inbox.locator(f"a[href='/bookings/{booking.reference}/']")
            )
            card.locator(f"form[action='/bookings/{booking.reference}/accept/'] button[type=submit]").click()
            expect(inbox.locator("article.request-card")).to_have_count(0)
        booking.refresh_from_db()
        assert booking.status == BookingStatus.AWAITING_PAYMENT

        friend.goto(f"/bookings/{booking.reference}/")
        friend.locator(f"form[action='/bookings/{booking.reference}/pay/'] button[type=submit]").click()
        expect(friend).to_have_url(re.compile(r"/payments/simulator/[^/]+/$"))
        friend.locator("button[name=action][value=pay_qris]").click()
        expect(friend).to_have_url(re.compile(rf"/bookings/{re.escape(booking.reference)}/payment/$"))
        expect(friend.locator("#payment-state-title")).to_have_text(gettext_id("Payment received"))
        payment = Payment.objects.get(booking=booking)
        assert (payment.status, payment.amount) == (Payment.Status.PAID, raised.total)

    # ---- 5. The booking ends, nobody disputes it: completed, and the reward follows -----------------------
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert not Voucher.objects.exists()  # nothing before the dispute window closed
    assert booking_services.bookings_sweep(now=booking.complete_after + timedelta(minutes=1)) == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    referral.refresh_from_db()
    assert (referral.status, referral.qualifying_booking_id) == (Referral.Status.REWARDED, booking.pk)
    voucher = Voucher.objects.get(owner=referrer)
    assert (voucher.amount, voucher.status) == (50_000, Voucher.Status.AVAILABLE)

    # ---- 6. A sees the reward -------------------------------------------------------------------------
    page.reload()
    card = page.locator("[data-testid=invitations] > li")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-status", "rewarded")
    expect(card).to_contain_text("Bunga C.")
    expect(card.locator(".badge")).to_have_text(gettext_id("Rewarded"))
    expect(card).to_contain_text(rupiah_id(50_000))
    expect(card.locator("[data-testid=why]")).to_have_count(0)
    rewards = page.locator("[data-testid=rewards] > li")
    expect(rewards).to_have_count(1)
    expect(rewards).to_contain_text(rupiah_id(50_000))
    save_screenshot(page, artifacts_dir / f"referral-rewarded-{size}.png")
    no_sideways_scroll(page)

    # ---- 7. A books: the voucher comes off the price, and is reserved once the request is sent -----------
    with translation.override("id"):
        with_voucher = services.quote(
            customer=referrer, profile=profile, activity=hangout, start=referrer_start, hours=HOURS
        )
    assert (with_voucher.source, with_voucher.discount) == ("voucher", 50_000)  # more than A's own 10%
    page.goto(booking_request_path(profile, referrer_start, HOURS))
    breakdown = page.locator("form#booking-form .price-breakdown")
    expect(breakdown).to_contain_text(gettext_id("Referral voucher"))
    expect(breakdown).to_contain_text(f"−{rupiah_id(50_000)}")
    expect(breakdown.locator(".price-breakdown__total dd")).to_have_text(rupiah_id(with_voucher.total))
    save_screenshot(page, artifacts_dir / f"referral-voucher-{size}.png")
    no_sideways_scroll(page)
    send_booking_request(page, MEETING_PLACE)
    own = Booking.objects.get(customer=referrer)
    assert (own.discount, own.total) == (50_000, with_voucher.total)
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.RESERVED
    redemption = Redemption.objects.get(booking=own)
    assert (redemption.source, redemption.voucher_id, redemption.status) == ("voucher", voucher.pk, "reserved")
    expect(page.locator(".price-breakdown").first).to_contain_text(f"−{rupiah_id(50_000)}")
    page.goto("/accounts/invite/")
    expect(page.locator("[data-testid=rewards]")).to_have_count(0)  # taken by the request
    expect(page.locator("[data-testid=invitations] > li")).to_have_attribute("data-status", "rewarded")
