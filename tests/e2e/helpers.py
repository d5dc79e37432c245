"""Building blocks for browser journeys (plain functions; the fixtures live in the test modules).

- `browser_context`: another browser context (a second person) with the same timeouts as conftest's `page`.
- `serve_media`: the test settings keep uploads in InMemoryStorage and DEBUG is off, so the live server has
  no /media/ URL; in production a web server or S3 serves them. This stands in for that server: the
  browser's /media/ requests are answered from the storage the app wrote to, so an <img> really loads.
- `seed_reference_data`: the cities, activities, languages and rate bounds of migration 0002. Browser tests
  run on a transactional database that is flushed after each test, which also removes migration data.
  (The `reference_data` fixture of tests/conftest.py does the same for a whole test.)
- `gettext_id`, `rupiah_id`: visible text and amounts as the Indonesian pages (the site's default language)
  show them, through the catalogue, so a comparison holds whether or not the translations are compiled.
- `ayu_in_jakarta`, `booking_request_path`, `send_booking_request`: the journeys' bookable companion and the
  booking request form.
"""

import importlib
import mimetypes
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlencode, urlparse
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.files.storage import storages
from django.utils import translation
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect

from companions.models import CompanionProfile
from core.templatetags.ui import rupiah
from tests.companions.helpers import listed_companion
from tests.conftest import totp_code
from tests.e2e.conftest import ACTION_TIMEOUT_MS, NAVIGATION_TIMEOUT_MS

PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 800}
JAKARTA = ZoneInfo("Asia/Jakarta")
EVERY_DAY_10_TO_20 = [(weekday, 10 * 60, 10 * 60) for weekday in range(7)]


def seed_reference_data() -> None:
    """Idempotent (update_or_create), so it is safe whether or not the migration's rows survived."""
    migration = importlib.import_module("companions.migrations.0002_seed_reference_data")
    migration.seed(apps, None)


def gettext_id(message: str) -> str:
    with translation.override("id"):
        return str(translation.gettext(message))


def rupiah_id(amount: int) -> str:
    """The amount as the Indonesian pages write it ("Rp 150.000")."""
    with translation.override("id"):
        return rupiah(amount)


def ayu_in_jakarta(*, rate: int, min_hours: int, activities: tuple[str, ...]) -> CompanionProfile:
    """Ayu, listed in Jakarta: every day 10.00–20.00, up to 6 hours, booked at least 3 hours ahead."""
    return listed_companion(
        name="Ayu",
        city="jakarta",
        ranges=EVERY_DAY_10_TO_20,
        rate=rate,
        min_hours=min_hours,
        max_hours=6,
        activities=activities,
        min_notice_minutes=180,
    )


def booking_request_path(profile: CompanionProfile, start: datetime, hours: int) -> str:
    """The booking request page for `hours` from `start`, as the profile's slot picker links to it."""
    return f"/c/{profile.slug}/book/?{urlencode({'start': start.isoformat(), 'hours': hours})}"


def send_booking_request(page: Page, meeting_place: str) -> None:
    """On the booking request page: the meeting place, the safety box, send; the booking's page follows."""
    form = page.locator("form#booking-form")
    form.locator("input[name=meeting_place]").fill(meeting_place)
    form.locator("input[name=safety]").check()
    form.locator(".booking-submit button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/bookings/KMP-[A-Z0-9]+/$"))


@contextmanager
def browser_context(browser: Browser, base_url: str, viewport: dict) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=viewport, base_url=base_url, locale="en-US")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def serve_media(context: BrowserContext, base_url: str) -> None:
    storage = storages["default"]

    def answer(route: Route) -> None:
        name = unquote(urlparse(route.request.url).path).removeprefix(settings.MEDIA_URL)
        if not name or not storage.exists(name):
            route.fulfill(status=404, body="")
            return
        with storage.open(name, "rb") as file:
            body = file.read()
        route.fulfill(status=200, body=body, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")

    context.route(f"{base_url}{settings.MEDIA_URL}**", answer)


def write_jpeg(path: Path, size: tuple[int, int], color: tuple[int, int, int] = (190, 120, 90)) -> Path:
    """A real JPEG with some structure (a gradient band), not just one flat colour."""
    image = Image.new("RGB", size, color)
    width, height = size
    for x in range(0, width, 4):
        shade = int(255 * x / width)
        image.paste((shade, 80, 255 - shade), (x, height // 3, x + 4, 2 * height // 3))
    image.save(path, format="JPEG", quality=85)
    return path


def next_working_day(today: date) -> date:
    """The first Monday–Friday at least one day after `today`."""
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def expect_image_loaded(image: Locator) -> None:
    """Waits (auto-waiting, no sleep) until the <img> shows real pixels: a broken image has naturalWidth 0."""
    image.scroll_into_view_if_needed()  # lazy images load only near the viewport
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def save_screenshot(page: Page, path: Path) -> None:
    """Full page from the top, so the sticky header sits where a person sees it."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path, full_page=True)


def log_in(page: Page, email: str, password: str) -> None:
    """Fill and send allauth's login form (the page must already show it)."""
    form = page.locator("form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=login]").fill(email)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()


def enter_totp(page: Page, secret: str) -> None:
    """Type the authenticator code on allauth's 2FA page and send it.

    allauth accepts only the current 30-second step (MFA_TOTP_TOLERANCE = 0). If the step changed between
    computing the code and the server checking it, the page comes back with an error: then, and only
    then, the next step's code is entered once more. A wrong code in the same step still fails the test.
    """
    code_input = page.locator("input[name=code]")
    for attempt in range(2):
        step = int(time.time()) // 30
        code_input.fill(totp_code(secret))
        with page.expect_navigation():
            page.locator("form[action='/accounts/2fa/authenticate/'] button[type=submit]:not([form])").click()
        if not re.search(r"/accounts/2fa/authenticate/", page.url):
            return
        assert attempt == 0 and int(time.time()) // 30 != step, "the TOTP code was refused"
    raise AssertionError("the TOTP code was refused twice")
