from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentDocument, ConsentRecord, Role, User
from tests.factories import TEST_PASSWORD, signup_data

pytestmark = pytest.mark.django_db


def sign_up(client, **overrides):
    return client.post(reverse("account_signup"), signup_data(**overrides), REMOTE_ADDR="203.0.113.7")


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.COMPANION])
def test_sign_up_creates_the_user_with_profile_and_sends_a_verification_email(client, role):
    response = sign_up(client, role=role)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="rina@example.id")
    assert user.role == role
    assert user.full_name == "Rina Wulandari"
    assert user.phone == "+6281234567890"
    assert user.date_of_birth == date(1996, 4, 21)
    assert user.time_zone == "Asia/Jakarta"
    assert user.preferred_language == "id"
    assert user.check_password(TEST_PASSWORD)
    assert EmailAddress.objects.get(user=user).verified is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rina@example.id"]
    assert "/accounts/confirm-email/" in mail.outbox[0].body


def test_sign_up_page_preselects_the_companion_role_from_the_link(client):
    response = client.get(reverse("account_signup") + "?role=companion")
    assert response.status_code == 200
    assert response.context["form"].initial["role"] == Role.COMPANION


def test_sign_up_in_english_saves_english_as_the_preferred_language(client):
    client.cookies["kompanion_language"] = "en"
    sign_up(client)
    assert User.objects.get(email="rina@example.id").preferred_language == "en"


def test_consent_records_are_written_with_the_accepted_versions(client, settings):
    settings.TERMS_VERSION = "2026-11-01"
    settings.PRIVACY_VERSION = "2026-10-15"
    sign_up(client, whatsapp_opt_in="on")

    user = User.objects.get(email="rina@example.id")
    records = {record.document: record for record in ConsentRecord.objects.filter(user=user)}
    assert set(records) == {ConsentDocument.TERMS, ConsentDocument.PRIVACY, ConsentDocument.WHATSAPP}
    assert records[ConsentDocument.TERMS].version == "2026-11-01"
    assert records[ConsentDocument.PRIVACY].version == "2026-10-15"
    assert all(record.granted for record in records.values())
    assert all(record.ip_address == "203.0.113.7" for record in records.values())
    assert user.whatsapp_opt_in is True


def test_whatsapp_stays_off_unless_ticked(client):
    sign_up(client)  # no whatsapp_opt_in in the POST
    user = User.objects.get(email="rina@example.id")
    assert user.whatsapp_opt_in is False
    assert not ConsentRecord.objects.filter(user=user, document=ConsentDocument.WHATSAPP).exists()


def test_sign_up_without_accepting_the_terms_is_refused(client):
    response = sign_up(client, accept_terms=None)
    assert response.status_code == 200
    assert "accept_terms" in response.context["form"].errors
    assert not User.objects.exists()
    assert ConsentRecord.objects.count() == 0


def test_under_18_is_refused_and_nothing_is_saved(client):
    # "Today" where the person lives (the form asks their zone): in the evening UTC it is already tomorrow in WIB.
    today = timezone.localdate(timezone=ZoneInfo("Asia/Jakarta"))
    seventeen = today.replace(year=today.year - 18) + timedelta(days=1)
    response = sign_up(client, date_of_birth=seventeen.isoformat())

    assert response.status_code == 200
    errors = response.context["form"].errors["date_of_birth"]
    assert errors == ["Kamu harus berusia minimal 18 tahun untuk menggunakan Kompanion."]
    assert not User.objects.exists()
    assert len(mail.outbox) == 0


def test_exactly_18_today_is_accepted(client):
    today = timezone.localdate(timezone=ZoneInfo("Asia/Jakarta"))
    try:
        eighteen = today.replace(year=today.year - 18)
    except ValueError:  # 29 February
        eighteen = today.replace(year=today.year - 18, day=28)
    response = sign_up(client, date_of_birth=eighteen.isoformat())
    assert response.status_code == 302
    assert User.objects.filter(email="rina@example.id").exists()


def test_invalid_phone_is_refused_with_a_clear_message_and_nothing_saved(client):
    response = sign_up(client, phone="+1 202 555 0143")

    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [
        "Masukkan nomor HP Indonesia, misalnya 0812-3456-7890 atau +62 812-3456-7890."
    ]
    assert not User.objects.exists()
    assert ConsentRecord.objects.count() == 0
    # What was typed stays in the form.
    assert response.context["form"]["full_name"].value() == "Rina Wulandari"
    assert b'value="Rina Wulandari"' in response.content


@pytest.mark.parametrize("typed", ["081234567890", "6281234567890", "+62 812-3456-7890"])
def test_indonesian_phone_forms_are_stored_in_e164(client, typed):
    sign_up(client, phone=typed)
    assert User.objects.get(email="rina@example.id").phone == "+6281234567890"


def test_login_is_refused_until_the_email_is_verified(client):
    sign_up(client)
    verification_email = mail.outbox[0]

    response = client.post(reverse("account_login"), {"login": "rina@example.id", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session

    # Confirming the emailed link (GET shows a page, POST confirms) opens the door.
    link = next(line for line in verification_email.body.splitlines() if "/accounts/confirm-email/" in line)
    path = link[link.index("/accounts/confirm-email/") :].strip()
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    response = client.post(reverse("account_login"), {"login": "rina@example.id", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email="rina@example.id").pk)


def test_email_is_unique_regardless_of_case(client, customer):
    response = sign_up(client, email=customer.email.upper())
    # allauth prevents enumeration: same answer as a new sign-up, but no second account.
    assert response.status_code == 302
    assert User.objects.filter(email__iexact=customer.email).count() == 1


def test_the_purge_erases_stale_sign_ups_only():
    from datetime import timedelta

    from accounts.services import purge_unverified_accounts
    from tests.factories import UserFactory

    old = timezone.now() - timedelta(days=30)
    signup = UserFactory(verified_email=False, date_joined=old)
    EmailAddress.objects.create(user=signup, email=signup.email, verified=False, primary=True)
    made_by_staff = UserFactory(verified_email=False, date_joined=old)  # no email address row at all
    assert purge_unverified_accounts() == 1
    assert not User.objects.filter(pk=signup.pk).exists()
    assert User.objects.filter(pk=made_by_staff.pk).exists()
