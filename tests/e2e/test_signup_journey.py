"""The first journey of every user: sign up, confirm the email, log in, switch the language.

Run on a phone-sized and a desktop-sized viewport, as a companion on one and a customer on the other.
Selectors use form field names and accessible roles; visible strings are only asserted where the
language is the point (Indonesian by default, English after the switch).
"""

import re

import pytest
from allauth.account.models import EmailAddress
from django.utils import translation
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.factories import TEST_PASSWORD

CONFIRM_LINK = re.compile(r"https?://[^\s\"'<>]+/accounts/confirm-email/[^\s\"'<>/]+/")

JOURNEYS = [
    pytest.param({"width": 360, "height": 800}, "companion", id="phone-360x800-companion"),
    pytest.param({"width": 1280, "height": 800}, "customer", id="desktop-1280x800-customer"),
]


def log_out_label(language: str) -> str:
    """The header's "Log out" in that language, as the catalogues have it (never the English in Indonesian)."""
    with translation.override(language):
        label = translation.gettext("Log out")
    if language != "en":
        assert label != "Log out", f"'Log out' is not translated to {language}"
    return label


def open_account_menu(page: Page) -> None:
    """The signed-in header menu is a <details>: open it (once) to reach the account actions."""
    menu = page.locator("header details").filter(has=page.locator("form[action='/accounts/logout/']"))
    expect(menu).to_have_count(1)
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")


def save_screenshot(page: Page, path) -> None:
    """Full page from the top, so the sticky header sits where a person sees it."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path, full_page=True)


def switch_language(page: Page, code: str) -> None:
    """The header's switch; signed in on a phone it lives in the menu instead (the bell takes its room)."""
    buttons = page.locator(f"header button[name=language][value={code}]:visible")
    if buttons.count() == 0:
        page.locator("header details.menu > summary").click()
    page.locator(f"header button[name=language][value={code}]:visible").click()
    expect(page.locator("html")).to_have_attribute("lang", code)
    if page.locator("header details.menu[open]").count():
        page.locator("header details.menu > summary").click()
    pressed = page.locator(f"header button[name=language][value={code}][aria-pressed=true]")
    expect(pressed.first).to_be_attached()


@pytest.mark.parametrize(("viewport", "role"), JOURNEYS)
def test_signup_confirm_login_and_switch_language(page: Page, mailoutbox, artifacts_dir, viewport, role):
    size = f"{viewport['width']}x{viewport['height']}"
    email = f"e2e-{role}-{size}@example.id"

    # Home, in Indonesian even though the browser asks for English (Accept-Language is ignored on purpose).
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "id")

    # To the sign-up form, the way a visitor gets there (the header's link sits in the menu on phones).
    signup_link = page.locator("a[href='/accounts/signup/']").filter(visible=True).first
    signup_link.click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    form = page.locator("form[action='/accounts/signup/']")

    radio = form.locator(f"input[name=role][value={role}]")
    form.locator("label", has=page.locator(f"input[name=role][value={role}]")).click()
    expect(radio).to_be_checked()
    form.locator("input[name=full_name]").fill("Dewi Lestari" if role == "companion" else "Budi Santoso")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=phone]").fill("0812-3456-7890" if role == "companion" else "0813 9876 5432")
    date_of_birth = form.locator("input[name=date_of_birth]")
    expect(date_of_birth).to_have_attribute("type", "date")
    date_of_birth.fill("1996-08-17")
    form.locator("select[name=time_zone]").select_option("Asia/Makassar")
    form.locator("input[name=password1]").fill(TEST_PASSWORD)
    form.locator("input[name=password2]").fill(TEST_PASSWORD)
    form.locator("input[name=accept_terms]").check()
    if role == "customer":
        form.locator("input[name=whatsapp_opt_in]").check()
    save_screenshot(page, artifacts_dir / f"signup-form-{size}.png")
    form.locator("button[type=submit]").click()

    # "Verify your email" page; the email carries the confirmation link.
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert len(mailoutbox) == 1, [message.subject for message in mailoutbox]
    message = mailoutbox[0]
    assert message.to == [email]
    user = User.objects.get(email=email)
    assert user.role == role
    assert user.full_name in ("Dewi Lestari", "Budi Santoso")
    assert str(user.date_of_birth) == "1996-08-17"
    assert not EmailAddress.objects.filter(user=user, verified=True).exists()
    match = CONFIRM_LINK.search(message.body)
    assert match, message.body

    # The link shows a confirmation page; confirming is a POST (a GET alone changes nothing).
    page.goto(match.group(0))
    assert not EmailAddress.objects.filter(user=user, verified=True).exists()
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert EmailAddress.objects.filter(user=user, email=email, verified=True).exists()

    # Log in.
    login_form = page.locator("form").filter(has=page.locator("input[name=password]"))
    login_form.locator("input[name=login]").fill(email)
    login_form.locator("input[name=password]").fill(TEST_PASSWORD)
    login_form.locator("button[type=submit]").click()
    expect(page.locator("header form[action='/accounts/logout/']")).to_have_count(1)
    expect(page.locator("html")).to_have_attribute("lang", "id")
    open_account_menu(page)
    expect(page.get_by_role("button", name=log_out_label("id"), exact=True)).to_be_visible()
    save_screenshot(page, artifacts_dir / f"signed-in-{size}.png")

    # Switch to English through the header switch: the page, and the account's saved choice, follow.
    switch_language(page, "en")
    open_account_menu(page)
    expect(page.get_by_role("button", name=log_out_label("en"), exact=True)).to_be_visible()
    user.refresh_from_db()
    assert user.preferred_language == "en"

    # And back to Indonesian.
    switch_language(page, "id")
    open_account_menu(page)
    expect(page.get_by_role("button", name=log_out_label("id"), exact=True)).to_be_visible()
    user.refresh_from_db()
    assert user.preferred_language == "id"
