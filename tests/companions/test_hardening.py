"""Fixes from the security and correctness review, each pinned by a test."""

from datetime import date, timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from companions import services
from companions.errors import ProfileError, VerificationError
from companions.models import City, IdentityVerification, VerificationStatus
from tests.companions.helpers import listed_companion
from tests.companions.test_services import complete_profile, submit
from tests.conftest import STAFF_TOTP_SECRET
from tests.factories import CompanionFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_staff_need_the_permission_to_see_id_documents():
    verification = submit(complete_profile())
    url = reverse("companions:identity_file", args=[verification.pk, "ktp"])
    reviewer = StaffFactory(is_superuser=False)
    TOTP.activate(reviewer, STAFF_TOTP_SECRET)
    client = Client()
    client.force_login(reviewer)
    assert client.get(url).status_code == 404
    reviewer.user_permissions.add(Permission.objects.get(codename="view_identityverification"))
    client.force_login(reviewer.__class__.objects.get(pk=reviewer.pk))  # fresh permission cache
    assert client.get(url).status_code == 200


def test_one_nik_is_approved_on_one_account_only_even_when_both_were_pending():
    staff = StaffFactory()
    first = submit(complete_profile())
    second = submit(complete_profile(CompanionFactory(date_of_birth=date(1996, 4, 21))))  # same NIK
    services.verification_approve(verification_id=first.pk, reviewer=staff)
    with pytest.raises(VerificationError):
        services.verification_approve(verification_id=second.pk, reviewer=staff)
    assert IdentityVerification.objects.get(pk=second.pk).status == VerificationStatus.PENDING


def test_gender_checked_against_the_ktp_cannot_be_changed_by_the_companion():
    profile = complete_profile()
    submit(profile)
    profile.refresh_from_db()
    with pytest.raises(ProfileError):
        services.profile_update(
            profile=profile,
            display_name="Ayu",
            bio=profile.bio,
            city=City.objects.get(slug="bandung"),
            languages=profile.languages.all(),
            activities=profile.activities.all(),
            hourly_rate=150_000,
            min_hours=2,
            max_hours=6,
            gender="male",
        )
    profile.refresh_from_db()
    assert profile.gender == "female"


def test_a_verified_companion_cannot_change_name_or_birth_date_in_settings(client):
    profile = complete_profile()
    submit(profile)
    user = profile.user
    client.force_login(user)
    response = client.post(
        reverse("accounts:settings"),
        {
            "full_name": "Someone Else",
            "date_of_birth": "2000-01-01",
            "preferred_language": "id",
            "time_zone": "Asia/Jakarta",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.date_of_birth) != ("Someone Else", date(2000, 1, 1))
    assert user.date_of_birth == date(1996, 4, 21)


def test_junk_parameters_share_one_cache_entry(client, settings):
    from django.core.cache import caches

    settings.COMPANION_PAGE_CACHE_SECONDS = 600
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "junk"}}
    listed_companion(name="Ayu")
    client.get(reverse("companions:search"), {"city": "jakarta"})
    stored = len(caches["default"]._cache)
    assert stored >= 2  # the version key and the page
    for index in range(20):
        response = client.get(reverse("companions:search"), {"city": "jakarta", f"utm_{index}": "x"})
        assert response.status_code == 200
    assert len(caches["default"]._cache) == stored


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_far_dates_are_ignored_with_no_500(client, day):
    listed_companion(name="Ayu")
    response = client.get(reverse("companions:search"), {"date": day, "time": "10:00"})
    assert response.status_code == 200
    assert response.context["query"].day is None


def test_an_in_range_date_is_kept(client):
    listed_companion(name="Ayu")
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.get(reverse("companions:search"), {"date": day})
    assert str(response.context["query"].day) == day
