"""Browser journey (issue 15): export, then delete an account, and cancel the deletion by logging in.

On a phone (360x800) and on a desktop: a customer opens the privacy centre from their settings, asks for a
copy of their data (the build task runs in-process, as in `make run`), sees it ready and downloads the ZIP;
then deletes the account (a fresh password first, then the confirmation box): they are logged out and told
when the data will be erased and how to cancel; their old page needs a login again. Logging in during the
grace period cancels the deletion (a success toast) and the account is active again.

The site speaks Indonesian by default: elements are found by name, href and data attributes."""

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from privacy.models import DeletionRequest, DeletionStatus, ExportRequest, ExportStatus
from tests.e2e.helpers import DESKTOP, PHONE, log_in, save_screenshot, seed_reference_data
from tests.factories import TEST_PASSWORD, CustomerFactory


@pytest.fixture
def reference_data(transactional_db):
    seed_reference_data()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-360x800", "desktop-1280x800"])
def test_export_then_delete_then_cancel_by_logging_in(page: Page, artifacts_dir, reference_data, viewport):
    size = f"{viewport['width']}x{viewport['height']}"
    customer = CustomerFactory(email=f"nadia.{viewport['width']}@example.id", full_name="Nadia Kusuma")

    # ---- The privacy centre, from the settings page -------------------------------------------------------
    page.goto("/accounts/settings/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    log_in(page, customer.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/settings/$"))
    page.locator("a[href='/accounts/privacy/']").click()
    expect(page).to_have_url(re.compile(r"/accounts/privacy/$"))
    expect(page.locator("[data-testid=retention] li").first).to_be_visible()

    # ---- Export: asked, built in-process, downloaded ------------------------------------------------------
    page.locator("form[action='/accounts/privacy/export/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/privacy/$"))
    page.reload()  # the task ran after the commit; the centre reads the export's state again
    export = page.locator("[data-testid=export]")
    expect(export).to_have_attribute("data-export-status", "ready")
    assert ExportRequest.objects.get(user=customer).status == ExportStatus.READY
    save_screenshot(page, artifacts_dir / f"privacy-export-ready-{size}.png")
    with page.expect_download() as download_info:
        export.locator("a[href*='/privacy/export/']").click()
    download = download_info.value
    with open(download.path(), "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert "data.json" in archive.namelist()
    assert customer.email in json.dumps(json.loads(archive.read("data.json")))

    # ---- Delete: a fresh password, then the confirmation ---------------------------------------------------
    page.locator("a[href='/accounts/privacy/delete/']").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/privacy/delete/$"))
    confirm = page.locator("input[name=confirm]")
    expect(confirm).to_be_visible()
    save_screenshot(page, artifacts_dir / f"privacy-delete-{size}.png")
    # Sent unticked: refused, nothing deleted.
    page.locator("form[action='/accounts/privacy/delete/'] button[type=submit]").click()
    expect(page.locator(".field-error")).to_be_visible()
    assert not DeletionRequest.objects.filter(user=customer).exists()
    page.locator("input[name=confirm]").check()
    page.locator("form[action='/accounts/privacy/delete/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/privacy/deleted/$"))
    expect(page.locator("main a[href='/accounts/login/']")).to_be_visible()
    save_screenshot(page, artifacts_dir / f"privacy-deleted-{size}.png")
    deletion = DeletionRequest.objects.get(user=customer)
    assert deletion.status == DeletionStatus.SCHEDULED
    assert not User.objects.get(pk=customer.pk).is_active
    assert str(deletion.purge_after.year) in page.locator("main").inner_text()

    # Logged out: the settings ask for a login again.
    page.goto("/accounts/settings/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    # ---- Logging in during the grace period cancels the deletion -----------------------------------------
    log_in(page, customer.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/settings/$"))
    expect(page.locator("#toasts .toast-success").filter(has_text="dibatalkan")).to_have_count(1)
    save_screenshot(page, artifacts_dir / f"privacy-cancelled-{size}.png")
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.CANCELLED
    assert User.objects.get(pk=customer.pk).is_active
