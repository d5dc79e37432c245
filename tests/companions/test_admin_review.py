"""Verification review in Django admin: staff approve or reject (with a reason), recorded."""

import pytest
from django.urls import reverse

from companions.models import CompanionProfile, IdentityVerification, VerificationStatus
from tests.companions.test_services import complete_profile, submit

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:companions_identityverification_changelist"


@pytest.fixture
def pending():
    return submit(complete_profile())


def test_the_queue_shows_pending_verifications_masked_and_not_cached(client, staff, pending):
    client.force_login(staff)
    response = client.get(reverse(CHANGELIST) + "?status__exact=pending")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    content = response.content.decode()
    assert pending.nik_masked in content
    assert "3174016104960001" not in content
    detail = client.get(reverse("admin:companions_identityverification_change", args=[pending.pk]))
    assert detail.status_code == 200
    assert "3174016104960001" not in detail.content.decode()
    assert reverse("companions:identity_file", args=[pending.pk, "ktp"]) in detail.content.decode()


def test_approve_action(client, staff, pending):
    client.force_login(staff)
    response = client.post(
        reverse(CHANGELIST), {"action": "approve_selected", "_selected_action": [pending.pk]}, follow=True
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == VerificationStatus.APPROVED and pending.reviewed_by == staff
    assert CompanionProfile.objects.get(pk=pending.profile_id).is_listed


def test_reject_action_asks_for_a_reason_first(client, staff, pending):
    client.force_login(staff)
    ask = client.post(reverse(CHANGELIST), {"action": "reject_selected", "_selected_action": [pending.pk]})
    assert ask.status_code == 200 and b'name="reason"' in ask.content
    pending.refresh_from_db()
    assert pending.status == VerificationStatus.PENDING  # nothing happens before a reason is given

    too_short = client.post(
        reverse(CHANGELIST),
        {"action": "reject_selected", "_selected_action": [pending.pk], "apply": "1", "reason": "bad"},
    )
    assert too_short.status_code == 200
    pending.refresh_from_db()
    assert pending.status == VerificationStatus.PENDING

    client.post(
        reverse(CHANGELIST),
        {
            "action": "reject_selected",
            "_selected_action": [pending.pk],
            "apply": "1",
            "reason": "The KTP photo is blurry: the NIK cannot be read.",
        },
    )
    pending.refresh_from_db()
    assert pending.status == VerificationStatus.REJECTED
    assert pending.rejection_reason == "The KTP photo is blurry: the NIK cannot be read."
    assert pending.reviewed_by == staff and pending.reviewed_at is not None


def test_the_companion_sees_the_outcome_and_can_resubmit(client, staff, pending):
    from companions import services

    services.verification_reject(verification_id=pending.pk, reviewer=staff, reason="The selfie is too dark.")
    client.force_login(pending.profile.user)
    response = client.get(reverse("companions:verification"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response.context["can_submit"] is True
    assert "The selfie is too dark." in response.content.decode()
    assert "3174016104960001" not in response.content.decode()
    assert IdentityVerification.objects.filter(profile=pending.profile).count() == 1
