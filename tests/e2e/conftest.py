"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live_server.

Playwright is never asked to download a browser: the system Chromium at /usr/bin/chromium is used, and
every test here is skipped (with the reason) when it is absent. CI installs it (.ci/run).

Playwright's sync API keeps an asyncio event loop running in the main thread while a browser is open,
which makes Django refuse ORM calls from the test ("SynchronousOnlyOperation"). DJANGO_ALLOW_ASYNC_UNSAFE
lifts that check. Both the browser and the flag live exactly as long as this package's tests (package
scope), so the rest of the suite runs with neither a running loop nor the check switched off.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's auto-waiting timeouts: generous for a loaded CI machine, still far from a hang.
ACTION_TIMEOUT_MS = 15_000
NAVIGATION_TIMEOUT_MS = 30_000

requires_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"needs Chromium at {CHROMIUM}: apt-get install -y --no-install-recommends chromium (CI does)",
)


def pytest_collection_modifyitems(config, items):
    """Every test in this package is a browser test: mark it `e2e` and skip it without Chromium."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(requires_chromium)


@pytest.fixture(scope="package")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"needs Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def viewport():
    """Overridden by parametrizing a test over `viewport` ({"width": ..., "height": ...})."""
    return {"width": 1280, "height": 800}


@pytest.fixture
def page(browser, viewport, live_server):
    """A fresh browser context (no cookies) per test; the page's relative URLs resolve against live_server."""
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="en-US")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    """Screenshots for humans to look at (gitignored)."""
    path = Path(settings.BASE_DIR) / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
