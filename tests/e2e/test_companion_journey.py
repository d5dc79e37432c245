"""A companion gets listed: onboarding on a phone, approval in Django admin, found by a visitor.

Three people, three browser contexts on one live server:
1. the companion (360x800) fills the profile, uploads a photo, saves weekly hours and sends the ID; the
   dashboard says "pending" and a visitor cannot find the profile yet;
2. a staff member (1280x800) logs in with password and TOTP and approves the verification in the admin;
3. a visitor (1280x800, no login) searches Bandung for the next working day, 2 hours: for the companion's first
   48 hours only Kompanion Plus members find them (early access); two days later the visitor finds the card,
   opens the profile and sees the name, the photo and that day's free times.
The site speaks Indonesian by default, so visible strings are compared through the catalogues.
"""

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from companions.models import (
    Activity,
    City,
    CompanionProfile,
    IdentityVerification,
    SpokenLanguage,
    VerificationStatus,
    WeeklyHours,
)
from tests.conftest import STAFF_TOTP_SECRET
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    browser_context,
    enter_totp,
    expect_image_loaded,
    gettext_id,
    log_in,
    next_working_day,
    save_screenshot,
    serve_media,
    write_jpeg,
)
from tests.factories import TEST_PASSWORD, CompanionFactory, StaffFactory

EMAIL = "sari.dewi@example.id"
NAME = "Sari"
BIO = (
    "Saya suka ngopi di kafe kecil, jalan-jalan ke Braga dan kulineran di Bandung. "
    "Senang menemani acara atau sekadar ngobrol santai."
)
NIK = "3174016104960001"  # province 31, born 21-04-96 as a woman (day + 40), serial 0001
WORKDAY_RANGES = [(weekday, 10 * 60, 8 * 60) for weekday in range(5)]  # Mon–Fri 10.00–18.00
SATURDAY_RANGE = (5, 12 * 60, 4 * 60)  # Sat 12.00–16.00


def card_link(page: Page, scope: str = "#results") -> Locator:
    """The companion's card link in the search results (a card's one link is the name)."""
    return page.locator(f"{scope} a.companion-card__link".strip()).filter(has_text=re.compile(rf"^\s*{NAME}\b"))


@pytest.mark.parametrize("viewport", [PHONE], ids=["companion-phone-360x800"])
def test_companion_onboarding_admin_approval_and_visitor_finds_the_profile(
    page: Page, browser, live_server, artifacts_dir, tmp_path, reference_data, viewport
):
    base_url = live_server.url
    companion = CompanionFactory(date_of_birth=date(1996, 4, 21), email=EMAIL, full_name="Sari Dewi")
    staff = StaffFactory(email="admin.review@example.id")
    TOTP.activate(staff, STAFF_TOTP_SECRET)
    bandung = City.objects.get(slug="bandung")
    photo = write_jpeg(tmp_path / "sari.jpg", (900, 1200))
    ktp = write_jpeg(tmp_path / "ktp.jpg", (1000, 640), color=(60, 110, 190))
    selfie = write_jpeg(tmp_path / "selfie.jpg", (800, 1000), color=(210, 170, 140))
    serve_media(page.context, base_url)

    # ---- 1. The companion, on a phone -------------------------------------------------------------
    page.goto("/companion/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/companion/$"))
    log_in(page, EMAIL, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/companion/$"))

    # The checklist: six steps, none done, each with a link to where it is done.
    steps = page.locator("ol.checklist > li.checklist__item")
    expect(steps).to_have_count(6)
    expect(page.locator("li.checklist__item--done")).to_have_count(0)
    expect(page.locator("progress")).to_have_attribute("value", "0")
    verification_card = page.locator("section[aria-labelledby=verification-title]")
    expect(verification_card).to_contain_text(gettext_id("Not submitted"))
    save_screenshot(page, artifacts_dir / "companion-dashboard-new-360x800.png")

    # Profile, from the checklist's first step.
    page.locator("li.checklist__item").first.locator("a.checklist__action").click()
    expect(page).to_have_url(re.compile(r"/companion/profile/$"))
    form = page.locator("form[action='/companion/profile/']")
    form.locator("input[name=display_name]").fill(NAME)
    form.locator("textarea[name=bio]").fill(BIO)
    form.locator("select[name=city]").select_option(str(bandung.pk))
    form.locator("input[name=gender][value=female]").check()
    form.locator("input[name=hourly_rate]").fill("150000")
    form.locator("select[name=min_hours]").select_option("2")
    form.locator("select[name=max_hours]").select_option("6")
    for activity in Activity.objects.filter(slug__in=["hangout", "culinary"]):
        form.locator(f"input[name=activities][value='{activity.pk}']").check()
    for language in SpokenLanguage.objects.filter(code__in=["id", "su"]):
        form.locator(f"input[name=languages][value='{language.pk}']").check()
    save_screenshot(page, artifacts_dir / "companion-profile-form-360x800.png")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/companion/$"))
    expect(page.locator("li.checklist__item--done")).to_have_count(3)

    # One photo.
    page.locator("a.checklist__action[href='/companion/photos/']").click()
    expect(page).to_have_url(re.compile(r"/companion/photos/$"))
    page.locator("input[name=photo]").set_input_files(photo)
    page.locator("form[action='/companion/photos/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/companion/photos/$"))
    expect(page.locator("ol.photo-list > li")).to_have_count(1)
    expect_image_loaded(page.locator("ol.photo-list img.photo-item__img"))

    # Weekly hours: a new companion starts with Mon–Fri 10.00–18.00; add Saturday in a blank row.
    page.locator("nav a[href='/companion/schedule/']").click()
    expect(page).to_have_url(re.compile(r"/companion/schedule/$"))
    hours_form = page.locator("form[action='/companion/schedule/']")
    for index in range(5):
        expect(hours_form.locator(f"[name=form-{index}-weekday]")).to_have_value(str(index))
        expect(hours_form.locator(f"select[name=form-{index}-start]")).to_have_value("10:00")
        expect(hours_form.locator(f"select[name=form-{index}-end]")).to_have_value("18:00")
    hours_form.locator("select[name=form-5-weekday]").select_option("5")
    hours_form.locator("select[name=form-5-start]").select_option("12:00")
    hours_form.locator("select[name=form-5-end]").select_option("16:00")
    hours_form.locator(".sticky-save button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/companion/schedule/$"))
    saturday = page.locator("section[aria-labelledby=weekday-5]")
    expect(saturday.locator("select[name$='-start']")).to_have_value("12:00")
    expect(saturday.locator("select[name$='-end']")).to_have_value("16:00")
    profile = CompanionProfile.objects.get(user=companion)
    saved = sorted(WeeklyHours.objects.filter(profile=profile).values_list("weekday", "start_minute", "length_minutes"))
    assert saved == [*WORKDAY_RANGES, SATURDAY_RANGE]

    # ID verification.
    page.locator("nav a[href='/companion/verification/']").click()
    expect(page).to_have_url(re.compile(r"/companion/verification/$"))
    id_form = page.locator("form[action='/companion/verification/']")
    id_form.locator("input[name=nik]").fill(NIK)
    id_form.locator("input[name=ktp_image]").set_input_files(ktp)
    id_form.locator("input[name=selfie_image]").set_input_files(selfie)
    id_form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/companion/$"))

    # Pending: five of six steps done, the ID check waits; the NIK is shown masked, never in full.
    expect(page.locator("li.checklist__item--done")).to_have_count(5)
    expect(verification_card).to_contain_text(gettext_id("Pending review"))
    expect(verification_card).to_contain_text("0001")
    expect(page.locator("body")).not_to_contain_text(NIK)
    save_screenshot(page, artifacts_dir / "companion-dashboard-pending-360x800.png")
    verification = IdentityVerification.objects.get(profile=profile)
    assert verification.status == VerificationStatus.PENDING
    profile.refresh_from_db()
    assert (profile.verification_status, profile.is_listed) == (VerificationStatus.PENDING, False)

    # Not findable yet: neither in search nor by the profile's address.
    with browser_context(browser, base_url, DESKTOP) as visitor_context:
        visitor = visitor_context.new_page()
        visitor.goto("/companions/?city=bandung")
        expect(visitor.locator("#results-title")).to_be_visible()
        expect(card_link(visitor)).to_have_count(0)
        response = visitor.goto(f"/c/{profile.slug}/")
        assert response is not None and response.status == 404

    # ---- 2. The admin approves --------------------------------------------------------------------
    with browser_context(browser, base_url, DESKTOP) as admin_context:
        admin = admin_context.new_page()
        admin.goto("/admin/")
        expect(admin).to_have_url(re.compile(r"/accounts/login/"))
        log_in(admin, staff.email, TEST_PASSWORD)
        expect(admin).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
        enter_totp(admin, STAFF_TOTP_SECRET)
        expect(admin).to_have_url(re.compile(r"/admin/$"))

        # The reviewer sees both private images (served by the permission-checked view), the NIK masked.
        admin.goto(f"/admin/companions/identityverification/{verification.pk}/change/")
        for kind in ("ktp", "selfie"):
            expect_image_loaded(admin.locator(f"img[src='/companion/verification/{verification.pk}/{kind}/']"))
        expect(admin.locator("#content")).not_to_contain_text(NIK)

        admin.goto("/admin/companions/identityverification/")
        row = admin.locator("#result_list tbody tr").filter(has=admin.locator(f"input[value='{verification.pk}']"))
        expect(row).to_have_count(1)
        expect(row).to_contain_text(NAME)
        expect(row).not_to_contain_text(NIK)
        row.locator("input.action-select").check()
        admin.locator("select[name=action]").select_option("approve_selected")
        save_screenshot(admin, artifacts_dir / "admin-verification-queue-1280x800.png")
        admin.locator("#changelist-form .actions button[name=index]").click()
        expect(admin.locator("ul.messagelist li.success")).to_have_count(1)
        save_screenshot(admin, artifacts_dir / "admin-verification-approved-1280x800.png")

    verification.refresh_from_db()
    assert (verification.status, verification.reviewed_by_id) == (VerificationStatus.APPROVED, staff.pk)
    assert verification.reviewed_at is not None
    profile.refresh_from_db()
    assert (profile.verification_status, profile.is_listed) == (VerificationStatus.APPROVED, True)

    # ---- 3. A visitor finds the companion -----------------------------------------------------------
    day = next_working_day(timezone.localdate(timezone=ZoneInfo("Asia/Jakarta")))
    # 2-hour starts on a 30-minute grid inside 10.00–18.00, Indonesian style ("10.00" … "16.00").
    expected_times = [f"{minute // 60:02d}.{minute % 60:02d}" for minute in range(10 * 60, 16 * 60 + 1, 30)]

    with browser_context(browser, base_url, DESKTOP) as visitor_context:
        serve_media(visitor_context, base_url)
        visitor = visitor_context.new_page()
        search_url = f"/companions/?city=bandung&date={day.isoformat()}&hours=2"
        visitor.goto(search_url)
        expect(visitor.locator("#results article.companion-card")).to_have_count(0)  # early access: members only
        # Two days later (the 48 hours of early access are over).
        CompanionProfile.objects.filter(pk=profile.pk).update(listed_at=profile.listed_at - timedelta(hours=48))
        visitor.goto(search_url)
        expect(visitor.locator("#results article.companion-card")).to_have_count(1)
        expect(card_link(visitor)).to_have_count(1)
        card = visitor.locator("#results article.companion-card").filter(has=card_link(visitor, scope=""))
        expect(card).to_contain_text(bandung.name)
        expect_image_loaded(card.locator("img.companion-card__img"))
        save_screenshot(visitor, artifacts_dir / "visitor-search-bandung-1280x800.png")

        card_link(visitor).click()
        expect(visitor).to_have_url(re.compile(rf"/c/{re.escape(profile.slug)}/$"))
        expect(visitor.get_by_role("heading", level=1)).to_contain_text(NAME)
        cover = visitor.locator("ul.gallery li.gallery__item--cover img")
        expect(cover).to_be_visible()
        expect_image_loaded(cover)

        panel_id = f"day-{day.isoformat()}"
        visitor.locator(f"a[data-day-tab='{panel_id}']").click()
        panel = visitor.locator(f"#{panel_id}")
        expect(panel).to_be_visible()
        expect(panel.locator(".slot time")).to_have_text(expected_times)
        save_screenshot(visitor, artifacts_dir / "visitor-profile-1280x800.png")
