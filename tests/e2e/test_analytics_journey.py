"""Analytics dashboard (issue 18) in a real browser: staff with the dashboard permission sign in (password,
then TOTP), the charts are drawn on a <canvas>, on a phone and on a desktop, and choosing a city changes
the figures."""

import re
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import Page, expect

from analytics.models import DailyPeople, DailyQuality, DailyRollup, LevelCount, SearchStat
from companions.models import Activity, City
from tests.conftest import STAFF_TOTP_SECRET
from tests.e2e.helpers import DESKTOP, PHONE, enter_totp, log_in, rupiah_id, save_screenshot, seed_reference_data
from tests.factories import TEST_PASSWORD, UserFactory

CANVAS_HAS_PIXELS = """canvas => {
    if (canvas.getAttribute("data-drawn") !== "true" || !canvas.width || !canvas.height) return false;
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
    return false;
}"""


@pytest.fixture
def reference_data(transactional_db):
    seed_reference_data()


def expect_drawn(page: Page, selector: str) -> None:
    canvas = page.locator(selector)
    canvas.scroll_into_view_if_needed()
    page.wait_for_function(CANVAS_HAS_PIXELS, arg=canvas.element_handle())
    box = canvas.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0
    assert box["x"] + box["width"] <= page.viewport_size["width"] + 1  # fits the screen


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "desktop"])
def test_the_dashboard_draws_its_charts_and_the_city_filter_changes_them(
    page: Page, reference_data, viewport, artifacts_dir
):
    staff = UserFactory(is_staff=True)
    TOTP.activate(staff, STAFF_TOTP_SECRET)
    staff.user_permissions.add(Permission.objects.get(codename="view_dashboard", content_type__app_label="analytics"))
    jakarta, bandung = City.objects.get(slug="jakarta"), City.objects.get(slug="bandung")
    activity = Activity.objects.order_by("position").first()
    yesterday = timezone.localdate() - timedelta(days=1)
    for offset, (city, gmv, requests) in enumerate([(jakarta, 4_500_000, 30), (bandung, 1_250_000, 12)]):
        for back in range(0, 28, 3):
            DailyRollup.objects.create(
                day=yesterday - timedelta(days=back + offset),
                city=city,
                activity=activity,
                requests=requests,
                accepted=requests - 2,
                paid=requests - 5,
                completed=requests - 7,
                declined=2,
                unpaid=3,
                gmv=gmv,
                service_fees=gmv // 10,
                commission=gmv // 5,
                computed_at=timezone.now(),
            )
    # The second half: searches (Jakarta's evenings often find nobody), people, ratings and levels.
    for back in range(0, 28):
        day = yesterday - timedelta(days=back)
        SearchStat.objects.create(day=day, hour_of_week=19, city=jakarta, activity=activity, searches=20, empty=12)
        SearchStat.objects.create(day=day, hour_of_week=34, city=bandung, activity=None, searches=10, empty=1)
        DailyPeople.objects.create(day=day, new_customers=6, new_companions=2, computed_at=timezone.now())
        DailyQuality.objects.create(
            day=day, stars_4=5, stars_5=9, whatsapp_sent=40, whatsapp_failed=2, computed_at=timezone.now()
        )
    for level, count in (("baru", 40), ("silver", 12), ("gold", 6)):
        LevelCount.objects.create(day=yesterday, level=level, companions=count)
    total_jakarta = 4_500_000 * 10
    total_bandung = 1_250_000 * 10

    admin_root = f"/{settings.ADMIN_URL}"
    page.goto(admin_root)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    log_in(page, staff.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    enter_totp(page, STAFF_TOTP_SECRET)
    expect(page).to_have_url(re.compile(rf"{re.escape(admin_root)}$"))

    page.goto(f"{admin_root}analytics/")
    expect(page.get_by_test_id("analytics-dashboard")).to_be_visible()
    expect(page.get_by_test_id("gmv")).to_have_text(rupiah_id(total_jakarta + total_bandung))
    for chart in ("#chart-money", "#chart-funnel", "#chart-losses", "#chart-people", "#chart-ratings", "#chart-levels"):
        expect_drawn(page, chart)
    expect(page.get_by_test_id("searches")).to_have_text(str(30 * 28))
    # Monday 19h (Jakarta's evening): 60% of 560 searches found nobody.
    expect(page.get_by_test_id("heat-0-19")).to_contain_text("60%")
    expect(page.get_by_test_id("heatmap-box")).to_be_visible()
    name = "360x800" if viewport == PHONE else "1280x800"
    save_screenshot(page, artifacts_dir / f"analytics-dashboard-{name}.png")
    # Nothing wider than the screen (the admin's own layout, at 360 px too).
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    page.get_by_test_id("analytics-filters").locator("select[name=city]").select_option("bandung")
    page.get_by_test_id("filter-submit").click()
    expect(page).to_have_url(re.compile(r"city=bandung"))
    expect(page.get_by_test_id("gmv")).to_have_text(rupiah_id(total_bandung))
    expect(page.get_by_test_id("step-requests").get_by_test_id("count")).to_have_text(str(12 * 10))
    expect(page.get_by_test_id("searches")).to_have_text(str(10 * 28))
    expect(page.get_by_test_id("heat-0-19")).to_have_text("—")  # Jakarta's evenings are not Bandung's
    expect_drawn(page, "#chart-money")
