"""Every way staff switch a person off is the same recorded decision (issue 15): unticking "active" in the
user admin and suspending or banning from a chat report stop the person's future bookings with full
refunds and are recorded as moderation actions, exactly as a suspension from the safety queue does."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import User
from bookings.models import BookingStatus
from chat import services as chat_services
from chat.models import Report
from payments import ledger
from payments.models import Refund
from safety import moderation
from safety.models import ModerationAction, ModerationKind
from tests.chat.test_chat_admin import hidden_inputs
from tests.conftest import STAFF_TOTP_SECRET
from tests.factories import StaffFactory
from tests.safety.helpers import booking_on_the_real_clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    return staff


def user_admin_form(user: User, **changes) -> dict:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "role": user.role,
        "preferred_language": user.preferred_language,
        "time_zone": user.time_zone,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "",
        "date_joined_1": "",
        "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0",
        "consents-MIN_NUM_FORMS": "0",
        "consents-MAX_NUM_FORMS": "1000",
    }
    if user.date_of_birth:
        data["date_of_birth"] = user.date_of_birth.isoformat()
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_unticking_active_in_the_user_admin_is_a_recorded_suspension_that_stops_bookings(client, superuser):
    booking = booking_on_the_real_clock()
    companion = booking.companion.user
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[companion.pk])
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, user_admin_form(companion, is_active=None))
    assert response.status_code == 302, response.content.decode()[:2000]

    companion.refresh_from_db()
    booking.refresh_from_db()
    assert not companion.is_active
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_for_safety
    assert Refund.objects.get(booking=booking).amount == booking.total
    assert ledger.check().balanced
    action = ModerationAction.objects.get(user=companion)
    assert (action.kind, action.staff) == (ModerationKind.SUSPEND, superuser)
    assert moderation.restricted(companion)


def test_a_chat_report_suspension_is_the_same_decision(client, superuser):
    booking = booking_on_the_real_clock()
    report = chat_services.report_send(
        booking=booking, reporter=booking.customer, category="contact", details="Minta transfer", message_id=None
    )
    client.force_login(superuser)
    url = reverse("admin:chat_report_change", args=[report.pk])
    page = client.get(url).content.decode()
    response = client.post(url, {**hidden_inputs(page), "action": "ban", "note": "Minta transfer di luar aplikasi"})
    assert response.status_code == 302
    assert Report.objects.get(pk=report.pk).status == Report.Status.CLOSED

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.refund_amount == booking.total
    action = ModerationAction.objects.get(user=booking.companion.user)
    assert (action.kind, action.reason) == (ModerationKind.BAN, "Minta transfer di luar aplikasi")
    assert not User.objects.get(pk=booking.companion.user_id).is_active


def test_staff_without_the_safety_permission_change_nothing_and_are_told_why(client):
    booking = booking_on_the_real_clock()
    companion = booking.companion.user
    clerk = StaffFactory(is_superuser=False)
    TOTP.activate(clerk, STAFF_TOTP_SECRET)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(clerk)
    url = reverse("admin:accounts_user_change", args=[companion.pk])
    response = client.post(url, user_admin_form(companion, is_active=None), follow=True)
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert any("Not deactivated" in text or "Tidak dinonaktifkan" in text for text in shown), shown

    companion.refresh_from_db()
    booking.refresh_from_db()
    assert companion.is_active and booking.status == BookingStatus.CONFIRMED
    assert not ModerationAction.objects.exists()
