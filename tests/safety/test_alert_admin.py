"""The staff safety queue for SOS and welfare alerts (safety/alert_admin.py): open alerts first, SOS on top;
each alert's page shows the booking, the parties and the safety timeline; handled with a note, recording who
and when, once."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from safety.models import AlertKind, SafetyAlert
from safety.sos import sos_raise
from safety.welfare import welfare_sweep
from tests.safety.meeting_helpers import confirmed_booking

pytestmark = pytest.mark.django_db
MINUTE = timedelta(minutes=1)


@pytest.fixture
def alerts():
    welfare = confirmed_booking((timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0))
    welfare_sweep(now=welfare.end + 15 * MINUTE)
    welfare_sweep(now=welfare.end + 30 * MINUTE)
    sos = confirmed_booking()
    sos_raise(booking=sos, user=sos.customer)
    return {
        "welfare": SafetyAlert.objects.get(kind=AlertKind.WELFARE),
        "sos": SafetyAlert.objects.get(kind=AlertKind.SOS),
        "sos_booking": sos,
    }


def test_the_queue_lists_open_sos_first_and_handled_last(client, staff, alerts):
    client.force_login(staff)

    def positions() -> list[int]:
        page = client.get(reverse("admin:safety_safetyalert_changelist")).content.decode()
        return [
            page.index(reverse("admin:safety_safetyalert_change", args=[alerts[kind].pk]))
            for kind in ("sos", "welfare")
        ]

    sos_at, welfare_at = positions()
    assert sos_at < welfare_at
    SafetyAlert.objects.filter(pk=alerts["sos"].pk).update(handled_at=timezone.now(), handled_by=staff)
    sos_at, welfare_at = positions()
    assert welfare_at < sos_at


def test_an_alert_shows_the_booking_the_parties_and_the_timeline(client, staff, alerts):
    booking = alerts["sos_booking"]
    booking.customer.phone = "+6281212341234"
    booking.customer.save()
    client.force_login(staff)
    page = client.get(reverse("admin:safety_safetyalert_change", args=[alerts["sos"].pk])).content.decode()
    assert booking.reference in page and booking.customer.email in page and booking.companion.user.email in page
    assert "0812-1234-1234" in page and booking.meeting_place in page
    assert 'name="handled"' in page


def test_handled_needs_a_note_and_records_who_and_when_once(client, staff, alerts):
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import STAFF_TOTP_SECRET
    from tests.factories import StaffFactory

    alert = alerts["sos"]
    url = reverse("admin:safety_safetyalert_change", args=[alert.pk])
    client.force_login(staff)
    response = client.post(url, {"note": "", "handled": "on"})
    assert response.status_code == 200  # the form again, with the error
    alert.refresh_from_db()
    assert alert.handled_at is None
    response = client.post(url, {"note": "Called the customer: safe, went home.", "handled": "on"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.handled_by == staff and alert.handled_at is not None
    assert alert.note == "Called the customer: safe, went home."
    first = alert.handled_at
    other = StaffFactory(is_superuser=True)
    TOTP.activate(other, STAFF_TOTP_SECRET)
    client.force_login(other)
    assert 'name="handled"' not in client.get(url).content.decode()
    assert client.post(url, {"note": "Again", "handled": "on"}).status_code == 302
    alert.refresh_from_db()
    assert (alert.handled_by, alert.handled_at) == (staff, first)
    assert alert.note == "Called the customer: safe, went home."


def test_staff_run_the_welfare_check_from_the_queue(client, staff):
    booking = confirmed_booking()  # began 30 minutes ago, ends in 90
    client.force_login(staff)
    listing = client.get(reverse("admin:safety_safetyalert_changelist")).content.decode()
    url = reverse("admin:safety_safetyalert_welfare_now")
    assert url in listing
    assert client.get(url).status_code == 200
    assert client.post(url, {"minutes_ahead": "-5"}).status_code == 422
    ends_in = int((booking.end - timezone.now()).total_seconds() // 60) + 1
    assert client.post(url, {"minutes_ahead": str(ends_in + 15)}).status_code == 302
    assert client.post(url, {"minutes_ahead": str(ends_in + 30)}).status_code == 302
    assert SafetyAlert.objects.filter(kind=AlertKind.WELFARE, booking=booking).count() == 1


def test_only_staff_who_may_change_alerts_run_it(client):
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.models import Permission

    from tests.conftest import STAFF_TOTP_SECRET
    from tests.factories import StaffFactory

    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_safetyalert"))
    TOTP.activate(viewer, STAFF_TOTP_SECRET)
    client.force_login(viewer)
    assert client.post(reverse("admin:safety_safetyalert_welfare_now"), {"minutes_ahead": "0"}).status_code == 403
