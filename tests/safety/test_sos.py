"""SOS (safety/sos.py): the page always shows the numbers to call; inside the meeting window a POST alerts the
safety team at once (one open alert per booking, top of the queue, an email) and the trusted contact."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.models import Delivery
from safety import meeting
from safety.models import AlertKind, Meeting, SafetyAlert, SafetyEvent, SafetyEventKind
from safety.sos import sos_raise
from tests.concurrency import at_once
from tests.conftest import is_postgresql
from tests.factories import CustomerFactory
from tests.safety.meeting_helpers import confirmed_booking, with_contact

pytestmark = pytest.mark.django_db


def sos_url(booking) -> str:
    return reverse("safety:sos", args=[booking.reference])


def test_the_page_shows_the_emergency_numbers(client):
    booking = confirmed_booking()
    client.force_login(booking.customer)
    page = client.get(sos_url(booking)).content.decode()
    for number in ("tel:112", "tel:110", "tel:119"):
        assert f'href="{number}"' in page
    assert "data-sos-send" in page
    assert not SafetyAlert.objects.exists()  # a GET alerts nobody


def test_sos_alerts_staff_and_the_contact_once(client, django_capture_on_commit_callbacks, settings):
    settings.SAFETY_TEAM_EMAILS = ["safety@example.com"]
    booking = confirmed_booking()
    companion = booking.companion.user
    with_contact(companion, phone="+6281298765432")
    code = meeting.meeting_for(booking).code
    client.force_login(companion)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(sos_url(booking))
    assert response.status_code == 200 and "data-sos-send" not in response.content.decode()
    alert = SafetyAlert.objects.get()
    assert (alert.kind, alert.priority, alert.booking_id, alert.raised_by_id) == (
        AlertKind.SOS,
        0,
        booking.pk,
        companion.pk,
    )
    assert Meeting.objects.get(booking=booking).sos_at is not None
    told = Delivery.objects.get(on_behalf=True)
    assert (told.to, told.template_key) == ("+6281298765432", "contact_sos")
    [email] = mail.outbox
    assert email.to == ["safety@example.com"] and booking.reference in email.subject
    assert reverse("admin:safety_safetyalert_change", args=[alert.pk]) in email.body
    for secret in (code, "+6281298765432", companion.email, booking.customer.email):
        assert secret not in email.body and secret not in email.subject
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(sos_url(booking))
    assert again.status_code == 200
    assert SafetyAlert.objects.count() == 1 and Delivery.objects.filter(on_behalf=True).count() == 1
    assert len(mail.outbox) == 1
    assert list(SafetyEvent.objects.filter(booking=booking).values_list("kind", flat=True)) == [
        SafetyEventKind.SOS,
        SafetyEventKind.CONTACT_TOLD,
    ]


def test_sos_tops_the_safety_queue(client):
    early = confirmed_booking()
    later = confirmed_booking(early.start + timedelta(days=2))
    from safety.welfare import welfare_sweep

    welfare_sweep(now=later.end + timedelta(minutes=15))
    welfare_sweep(now=later.end + timedelta(minutes=30))
    sos_raise(booking=early, user=early.customer)
    kinds = [
        alert.kind for alert in SafetyAlert.objects.filter(handled_at__isnull=True).order_by("priority", "created_at")
    ]
    assert kinds == [AlertKind.SOS, AlertKind.WELFARE]


def test_without_a_contact_staff_are_still_alerted(client):
    booking = confirmed_booking()
    client.force_login(booking.customer)
    assert client.post(sos_url(booking)).status_code == 200
    assert SafetyAlert.objects.filter(kind=AlertKind.SOS).count() == 1
    assert not Delivery.objects.filter(on_behalf=True).exists()


def test_outside_the_meeting_window_no_button_and_no_alert(client):
    start = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    booking = confirmed_booking(start)
    client.force_login(booking.customer)
    card = client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()
    assert "data-safety-card" in card and "data-sos" not in card.replace("data-sos-send", "")
    response = client.post(sos_url(booking))
    assert response.status_code == 422 and 'href="tel:112"' in response.content.decode()
    assert not SafetyAlert.objects.exists()


def test_in_the_window_both_parties_see_the_sos_button(client):
    booking = confirmed_booking()
    for user in (booking.customer, booking.companion.user):
        client.force_login(user)
        card = client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()
        assert f'href="{sos_url(booking)}" data-sos' in card


def test_someone_else_gets_404(client):
    booking = confirmed_booking()
    client.force_login(CustomerFactory())
    assert client.get(sos_url(booking)).status_code == 404
    assert client.post(sos_url(booking)).status_code == 404
    assert not SafetyAlert.objects.exists()


def test_the_other_partys_sos_tells_their_own_contact_under_the_same_alert(django_capture_on_commit_callbacks):
    booking = confirmed_booking()
    customer, companion = booking.customer, booking.companion.user
    with_contact(customer, phone="+6281211112222")
    with_contact(companion, phone="+6281233334444")
    with django_capture_on_commit_callbacks(execute=True):
        assert sos_raise(booking=booking, user=customer) is True
        assert sos_raise(booking=booking, user=companion) is True
        assert sos_raise(booking=booking, user=companion) is False
        assert sos_raise(booking=booking, user=customer) is False
    assert SafetyAlert.objects.count() == 1 and len(mail.outbox) == 1
    assert sorted(Delivery.objects.filter(on_behalf=True).values_list("to", flat=True)) == [
        "+6281211112222",
        "+6281233334444",
    ]
    assert SafetyEvent.objects.filter(booking=booking, kind=SafetyEventKind.SOS).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not is_postgresql(), reason="row races need PostgreSQL")
def test_three_taps_at_the_same_moment_raise_one_alert_and_tell_the_contact_once():
    booking = confirmed_booking()
    with_contact(booking.customer)
    assert at_once(*[lambda: sos_raise(booking=booking, user=booking.customer) for _ in range(3)]) == []
    assert SafetyAlert.objects.filter(booking=booking).count() == 1
    assert Delivery.objects.filter(on_behalf=True).count() == 1
    assert SafetyEvent.objects.filter(booking=booking, kind=SafetyEventKind.SOS).count() == 1
