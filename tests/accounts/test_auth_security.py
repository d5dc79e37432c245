import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sites.requests import RequestSite
from django.test import Client
from django.urls import reverse

from accounts.models import ConsentDocument, ConsentRecord
from tests.conftest import STAFF_TOTP_SECRET, post_current_totp, wrong_totp_code
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client, user, password=TEST_PASSWORD):
    return client.post(reverse("account_login"), {"login": user.email, "password": password})


def test_repeated_failed_logins_are_answered_429(client, customer):
    statuses = [log_in(client, customer, password="wrong-password").status_code for _ in range(6)]
    # allauth: 5 failures per 5 minutes for the same login ("key"), then 429.
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    # Even the right password is refused while the limit holds.
    assert log_in(client, customer).status_code == 429
    assert SESSION_KEY not in client.session


def test_login_gives_a_new_session_id(client, customer):
    client.get(reverse("account_login"))
    client.session.save()
    before = client.session.session_key
    assert before
    log_in(client, customer)
    assert client.session[SESSION_KEY] == str(customer.pk)
    assert client.session.session_key != before


def test_password_change_ends_every_other_session(customer):
    phone, laptop = Client(), Client()
    log_in(phone, customer)
    log_in(laptop, customer)
    assert laptop.get(reverse("accounts:settings")).status_code == 200

    response = phone.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": "Es-Teh-Manis-2026!", "password2": "Es-Teh-Manis-2026!"},
    )
    assert response.status_code == 302

    assert phone.get(reverse("accounts:settings")).status_code == 200  # this session stays
    response = laptop.get(reverse("accounts:settings"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_sessions_get_an_idle_timeout_shorter_for_staff(client, customer, staff, settings):
    settings.SESSION_IDLE_TIMEOUT = 3 * 24 * 3600
    settings.STAFF_SESSION_IDLE_TIMEOUT = 30 * 60
    client.force_login(customer)
    client.get(reverse("home"))
    assert client.session.get_expiry_age() == 3 * 24 * 3600

    staff_client = Client()
    staff_client.force_login(staff)
    staff_client.get(reverse("home"))
    assert staff_client.session.get_expiry_age() == 30 * 60


def test_changing_the_phone_needs_reauthentication(client, customer):
    log_in(client, customer)

    response = client.get(reverse("accounts:phone_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))

    response = client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    assert response.status_code == 302
    response = client.post(reverse("accounts:phone_change"), {"phone": "0813-1111-2222"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.phone == "+6281311112222"


def test_an_invalid_new_phone_changes_nothing(client, customer):
    before = customer.phone
    log_in(client, customer)
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    response = client.post(reverse("accounts:phone_change"), {"phone": "12345"})
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    customer.refresh_from_db()
    assert customer.phone == before


def test_settings_save_and_whatsapp_consent_is_recorded_both_ways(client, customer):
    client.force_login(customer)
    data = {
        "full_name": "Nama Baru",
        "date_of_birth": "1990-01-31",
        "preferred_language": "en",
        "time_zone": "Asia/Makassar",
        "whatsapp_opt_in": "on",
    }
    assert client.post(reverse("accounts:settings"), data).status_code == 302
    customer.refresh_from_db()
    assert (customer.full_name, customer.time_zone, customer.preferred_language) == (
        "Nama Baru",
        "Asia/Makassar",
        "en",
    )
    assert customer.whatsapp_opt_in is True

    del data["whatsapp_opt_in"]
    client.post(reverse("accounts:settings"), data)
    customer.refresh_from_db()
    assert customer.whatsapp_opt_in is False
    granted = ConsentRecord.objects.filter(user=customer, document=ConsentDocument.WHATSAPP).order_by("id")
    assert [record.granted for record in granted] == [True, False]


def test_settings_with_an_underage_birth_date_change_nothing_and_keep_the_input(client, customer):
    client.force_login(customer)
    response = client.post(
        reverse("accounts:settings"),
        {
            "full_name": "Typed Name",
            "date_of_birth": "2015-01-01",
            "preferred_language": "id",
            "time_zone": "Asia/Jakarta",
        },
    )
    assert response.status_code == 200
    assert "date_of_birth" in response.context["form"].errors
    assert b'value="Typed Name"' in response.content
    customer.refresh_from_db()
    assert customer.full_name != "Typed Name"


def test_staff_without_mfa_cannot_open_admin(client, staff_without_mfa):
    log_in(client, staff_without_mfa)
    assert client.session[SESSION_KEY] == str(staff_without_mfa.pk)

    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 302


def test_staff_with_totp_sign_in_with_a_code_and_open_admin(client, staff):
    response = log_in(client, staff)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert SESSION_KEY not in client.session  # the password alone is not enough

    response = client.post(reverse("mfa_authenticate"), {"code": wrong_totp_code(STAFF_TOTP_SECRET)})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session

    response = post_current_totp(client, STAFF_TOTP_SECRET)  # robust to a 30-second boundary in between
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(staff.pk)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_customers_get_403_from_admin_and_visitors_the_login(client, customer):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_login") + "?next=%2Fadmin%2F"
    client.force_login(customer)
    assert client.get(reverse("admin:index"), follow=True).status_code == 403


@pytest.mark.parametrize("sites_app", [True, False], ids=["sites-framework", "host-header-site"])
def test_the_per_account_login_limit_ignores_the_host_port(client, customer, sites_app, monkeypatch):
    """Defect 18: 12 wrong passwords through 12 ports were never refused, because the limit's key held
    the Host header with its port (allauth's site domain, without a fixed site). Each attempt here also
    comes from a new address, so only the per-account limit can refuse it."""
    if not sites_app:  # as without django.contrib.sites: the site is the Host header (port included)
        monkeypatch.setattr("allauth.account.adapter.get_current_site", RequestSite)

    def attempt(number, password="wrong-password", email=customer.email):  # noqa: S107
        return client.post(
            reverse("account_login"),
            {"login": email, "password": password},
            HTTP_HOST=f"testserver:{8000 + number}",
            REMOTE_ADDR=f"198.51.100.{number + 1}",
        )

    statuses = [attempt(number).status_code for number in range(5)]
    statuses.append(attempt(5, email=f"  {customer.email.upper()} ").status_code)  # same account, other spelling
    assert statuses == [200] * 5 + [429]
    assert attempt(6, password=TEST_PASSWORD).status_code == 429  # the right password waits too
    assert SESSION_KEY not in client.session
