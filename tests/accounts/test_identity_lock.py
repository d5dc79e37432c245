"""Defect 13: the name and date of birth checked against a companion's KTP are kept by the service
itself, whoever calls it (not only by the settings form's disabled fields)."""

from datetime import date

import pytest
from django.urls import reverse

from accounts import services
from accounts.errors import IdentityLocked
from accounts.models import ConsentRecord
from companions.models import CompanionProfile, VerificationStatus
from tests.factories import CompanionFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def settings_values(user, **changes):
    values = {
        "full_name": user.full_name,
        "date_of_birth": user.date_of_birth,
        "preferred_language": user.preferred_language,
        "time_zone": user.time_zone,
        "whatsapp_opt_in": user.whatsapp_opt_in,
        "meta": services.RequestMeta(),
    }
    values.update(changes)
    return values


def companion_with(status):
    user = CompanionFactory(full_name="Ayu Lestari", date_of_birth=date(1997, 3, 2))
    CompanionProfile.objects.create(user=user, slug=f"ayu-{status}", display_name="Ayu", verification_status=status)
    return user


@pytest.mark.parametrize("status", [VerificationStatus.APPROVED, VerificationStatus.PENDING])
@pytest.mark.parametrize(("field", "value"), [("full_name", "Someone Else"), ("date_of_birth", date(1990, 1, 1))])
def test_the_service_refuses_to_change_a_detail_checked_against_the_ktp(status, field, value):
    user = companion_with(status)

    with pytest.raises(IdentityLocked) as refused:
        services.user_update_settings(user=user, **settings_values(user, **{field: value}, preferred_language="en"))

    assert refused.value.field == field
    user.refresh_from_db()
    assert (user.full_name, user.date_of_birth, user.preferred_language) == ("Ayu Lestari", date(1997, 3, 2), "id")
    assert not ConsentRecord.objects.filter(user=user).exists()


def test_other_settings_still_save_while_the_identity_is_locked():
    user = companion_with(VerificationStatus.APPROVED)
    services.user_update_settings(user=user, **settings_values(user, preferred_language="en"))
    user.refresh_from_db()
    assert (user.full_name, user.preferred_language) == ("Ayu Lestari", "en")


@pytest.mark.parametrize("status", [VerificationStatus.NOT_SUBMITTED, VerificationStatus.REJECTED])
def test_a_companion_not_checked_against_a_ktp_may_change_name_and_birth_date(status):
    user = companion_with(status)
    services.user_update_settings(
        user=user, **settings_values(user, full_name="Ayu Putri", date_of_birth=date(1996, 3, 2))
    )
    user.refresh_from_db()
    assert (user.full_name, user.date_of_birth) == ("Ayu Putri", date(1996, 3, 2))


def test_a_customer_may_change_name_and_birth_date():
    user = CustomerFactory(full_name="Budi", date_of_birth=date(1995, 6, 15))
    services.user_update_settings(user=user, **settings_values(user, full_name="Budi Santoso"))
    user.refresh_from_db()
    assert user.full_name == "Budi Santoso"


def test_the_settings_page_keeps_the_checked_name_of_a_verified_companion(client):
    user = companion_with(VerificationStatus.APPROVED)
    client.force_login(user)
    response = client.post(
        reverse("accounts:settings"),
        {
            "full_name": "Someone Else",
            "date_of_birth": "1990-01-01",
            "preferred_language": "id",
            "time_zone": "Asia/Jakarta",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.date_of_birth) == ("Ayu Lestari", date(1997, 3, 2))


def test_deactivating_a_companion_takes_their_listing_down_through_the_companions_hook():
    """accounts/admin.py calls user_active_changed; companions (registered at startup) delists."""
    user = companion_with(VerificationStatus.APPROVED)
    CompanionProfile.objects.filter(user=user).update(is_listed=True)
    user.is_active = False
    user.save(update_fields=["is_active"])

    services.user_active_changed(user=user)

    assert CompanionProfile.objects.get(user=user).is_listed is False
