"""Every URL the project serves has a row saying what each kind of visitor gets there.

The test walks the URL resolver: a new URL without a row fails here, so nobody ships a page without
deciding who may open it. Each later issue adds its rows (with sample arguments for its URLs, and
another user's object to prove IDOR protection).

Outcomes: an HTTP status ("200", "403", "404", "405"), "login" (302 to the login page with next=),
or "redirect:<url name>" (302 to that page).
"""

from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import CompanionFactory, CustomerFactory, StaffFactory

ROLES = ("anonymous", "customer", "companion", "staff")


@dataclass(frozen=True)
class Row:
    anonymous: str
    customer: str
    companion: str
    staff: str
    kwargs: dict = field(default_factory=dict)
    query: str = ""

    def expected(self, role: str) -> str:
        return getattr(self, role)


def same(outcome: str, **extra) -> Row:
    return Row(outcome, outcome, outcome, outcome, **extra)


def signed_in(outcome: str, **extra) -> Row:
    """Anonymous visitors are sent to log in; every signed-in role gets `outcome`."""
    return Row("login", outcome, outcome, outcome, **extra)


MATRIX: dict[str, Row] = {
    # core
    "home": same("200"),
    "terms": same("200"),
    "privacy": same("200"),
    "healthz": same("200"),
    "set_language": same("405"),  # POST only (CSRF-protected form)
    # accounts (ours)
    "accounts:settings": signed_in("200"),
    "accounts:phone_change": signed_in("redirect:account_reauthenticate"),
    # allauth: entrance pages send signed-in users home
    "account_signup": Row("200", "redirect:home", "redirect:home", "redirect:home"),
    "account_login": Row("200", "redirect:home", "redirect:home", "redirect:home"),
    "account_logout": Row("redirect:home", "200", "200", "200"),
    "account_inactive": same("200"),
    "account_email_verification_sent": same("200"),
    "account_confirm_email": same("200", kwargs={"key": "not-a-real-key"}),  # page says the link is invalid
    # Only inside a pending login (login by code is off; TOTP step): otherwise back to the start.
    "account_confirm_login_code": Row("redirect:account_login", "redirect:home", "redirect:home", "redirect:home"),
    "account_reset_password": same("200"),
    "account_reset_password_done": same("200"),
    "account_reset_password_from_key": same("200", kwargs={"uidb36": "zz", "key": "bad-token"}),
    "account_reset_password_from_key_done": same("200"),
    "account_reauthenticate": signed_in("200"),
    "account_email": signed_in("200"),
    "account_change_password": signed_in("200"),
    "account_set_password": signed_in("redirect:account_change_password"),
    # allauth MFA: staff here already have TOTP
    "mfa_index": signed_in("200"),
    "mfa_authenticate": Row("redirect:account_login", "redirect:home", "redirect:home", "redirect:home"),
    "mfa_reauthenticate": Row("login", "redirect:account_reauthenticate", "redirect:account_reauthenticate", "200"),
    # Turning two-factor login on or off, or new recovery codes, need a fresh password check first.
    "mfa_activate_totp": signed_in("redirect:account_reauthenticate"),
    "mfa_deactivate_totp": Row("login", "404", "404", "redirect:account_reauthenticate"),
    "mfa_view_recovery_codes": Row("login", "404", "404", "404"),
    "mfa_generate_recovery_codes": signed_in("redirect:account_reauthenticate"),
    "mfa_download_recovery_codes": Row("login", "404", "404", "404"),
}

# Django admin: one rule for the whole family, checked on the index and every changelist.
ADMIN_ROW = Row("login", "403", "403", "200")


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield name, prefix + str(pattern.pattern)


def all_url_patterns() -> list[tuple[str | None, str]]:
    return list(_walk(get_resolver().url_patterns))


def is_admin(name: str | None, route: str) -> bool:
    return (name or "").startswith("admin:") or route.startswith(settings.ADMIN_URL)


def test_every_url_pattern_has_a_row():
    missing = sorted(
        {f"{name or '(unnamed)'} -> /{route}" for name, route in all_url_patterns() if not is_admin(name, route)}
        - {f"{name} -> /{route}" for name, route in all_url_patterns() if name in MATRIX}
    )
    assert not missing, "URLs without a permission-matrix row:\n" + "\n".join(missing)


def test_no_row_is_stale():
    names = {name for name, _ in all_url_patterns()}
    assert set(MATRIX) <= names, f"rows for URLs that no longer exist: {sorted(set(MATRIX) - names)}"


@pytest.fixture
def clients(db):
    staff = StaffFactory()
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import STAFF_TOTP_SECRET

    TOTP.activate(staff, STAFF_TOTP_SECRET)
    users = {"customer": CustomerFactory(), "companion": CompanionFactory(), "staff": staff}
    result = {"anonymous": Client()}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        result[role] = client
    return result


def outcome_of(response) -> str:
    if response.status_code in (301, 302):
        location = response["Location"]
        path = location.split("?", 1)[0]
        if path == reverse("account_login") and "next=" in location:
            return "login"
        for name in (
            "home",
            "account_login",
            "account_reauthenticate",
            "account_change_password",
            "mfa_index",
        ):
            if path == reverse(name):
                return f"redirect:{name}"
        return f"redirect to {location}"
    return str(response.status_code)


def _check(clients, url: str, row: Row) -> list[str]:
    problems = []
    for role in ROLES:
        got = outcome_of(clients[role].get(url))
        if got != row.expected(role):
            problems.append(f"{url} as {role}: expected {row.expected(role)}, got {got}")
    return problems


def test_each_row_holds_for_each_role(clients):
    problems = []
    for name, row in MATRIX.items():
        problems += _check(clients, reverse(name, kwargs=row.kwargs) + row.query, row)
    assert not problems, "\n".join(problems)


def test_admin_family_rule(clients):
    from django.contrib import admin

    urls = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    problems = []
    for url in urls:
        # Anonymous visitors pass through the admin's own login URL to allauth's.
        response = clients["anonymous"].get(url, follow=True)
        first = response.redirect_chain[-1][0] if response.redirect_chain else ""
        if not first.startswith(reverse("account_login") + "?next="):
            problems.append(f"{url} as anonymous: ended at {first or response.status_code}")
        for role in ("customer", "companion", "staff"):
            status = str(clients[role].get(url, follow=True).status_code)
            if status != ADMIN_ROW.expected(role):
                problems.append(f"{url} as {role}: expected {ADMIN_ROW.expected(role)}, got {status}")
    assert not problems, "\n".join(problems)
