"""The welfare check with a fake clock (safety/welfare.py): "Are you OK?" at end + 15 minutes, the trusted
contacts and the staff safety queue at end + 30 minutes, never once the meeting is ended, each step once
(also two sweeps at the same moment), and every step on the booking's timeline."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookings import hooks
from bookings.timeline import timeline
from notifications.models import Delivery, Notification, OutboxMessage
from safety import meeting
from safety.models import AlertKind, Meeting, SafetyAlert, SafetyEvent, SafetyEventKind, ShareLink
from safety.welfare import welfare_sweep
from tests.concurrency import at_once
from tests.conftest import is_postgresql
from tests.safety.meeting_helpers import confirmed_booking, with_contact

pytestmark = pytest.mark.django_db
MINUTE = timedelta(minutes=1)


@pytest.fixture
def booking():
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return confirmed_booking(start)


def kinds(booking) -> list[str]:
    return list(SafetyEvent.objects.filter(booking=booking).values_list("kind", flat=True))


def asked_notifications(booking) -> list[int]:
    return sorted(
        Notification.objects.filter(event="meeting_welfare_check", context__reference=booking.reference).values_list(
            "recipient_id", flat=True
        )
    )


def contact_messages() -> list[Delivery]:
    return list(Delivery.objects.filter(on_behalf=True).order_by("pk"))


def test_asked_at_15_minutes_escalated_at_30_once(booking, django_capture_on_commit_callbacks):
    customer, companion = booking.customer, booking.companion.user
    with_contact(customer, phone="+6281211112222")
    with_contact(companion, phone="+6281233334444")
    end = booking.end

    assert welfare_sweep(now=end + 14 * MINUTE) == {"asked": 0, "escalated": 0}
    assert welfare_sweep(now=end + 15 * MINUTE) == {"asked": 1, "escalated": 0}
    assert asked_notifications(booking) == sorted([customer.pk, companion.pk])
    assert welfare_sweep(now=end + 29 * MINUTE) == {"asked": 0, "escalated": 0}
    assert not contact_messages() and not SafetyAlert.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert welfare_sweep(now=end + 30 * MINUTE) == {"asked": 0, "escalated": 1}
    alert = SafetyAlert.objects.get()
    assert (alert.kind, alert.priority, alert.booking_id, alert.handled_at) == (AlertKind.WELFARE, 1, booking.pk, None)
    told = contact_messages()
    assert sorted(delivery.to for delivery in told) == ["+6281211112222", "+6281233334444"]
    # The text reached the (dev) phone with the share link, and is blanked in our table once sent.
    sent = OutboxMessage.objects.filter(to="+6281211112222").get()
    assert "/shared/" in sent.body and customer.get_short_name() in sent.body
    assert all(delivery.status == Delivery.Status.SENT and delivery.body == "" for delivery in told)
    assert ShareLink.objects.filter(booking=booking, revoked_at__isnull=True).count() == 2

    for later in (31, 45, 120):
        assert welfare_sweep(now=end + later * MINUTE) == {"asked": 0, "escalated": 0}
    assert asked_notifications(booking) == sorted([customer.pk, companion.pk])
    assert len(contact_messages()) == 2 and SafetyAlert.objects.count() == 1
    assert kinds(booking) == [
        SafetyEventKind.ASKED,
        SafetyEventKind.CONTACT_TOLD,
        SafetyEventKind.CONTACT_TOLD,
        SafetyEventKind.ESCALATED,
    ]


def test_nothing_when_the_meeting_was_ended(booking):
    code = meeting.meeting_for(booking).code
    met = booking.start + 5 * MINUTE
    meeting.check_in(booking=booking, user=booking.companion.user, code=code, now=met)
    meeting.meeting_end(booking=booking, user=booking.customer, now=booking.end)
    for later in (15, 30, 60):
        assert welfare_sweep(now=booking.end + later * MINUTE) == {"asked": 0, "escalated": 0}
    assert asked_notifications(booking) == [] and not SafetyAlert.objects.exists()


def test_ended_after_the_question_stops_the_escalation(booking):
    meeting.check_in(
        booking=booking, user=booking.companion.user, code=meeting.meeting_for(booking).code, now=booking.start
    )
    welfare_sweep(now=booking.end + 15 * MINUTE)
    meeting.meeting_end(booking=booking, user=booking.companion.user, now=booking.end + 20 * MINUTE)
    assert welfare_sweep(now=booking.end + 30 * MINUTE) == {"asked": 0, "escalated": 0}
    assert not SafetyAlert.objects.exists()


def test_both_fine_no_escalation_one_fine_only_the_other_contact(booking):
    customer, companion = booking.customer, booking.companion.user
    with_contact(customer, phone="+6281211112222")
    with_contact(companion, phone="+6281233334444")
    welfare_sweep(now=booking.end + 15 * MINUTE)
    meeting.say_fine(booking=booking, user=customer, now=booking.end + 16 * MINUTE)
    assert welfare_sweep(now=booking.end + 30 * MINUTE)["escalated"] == 1
    assert [delivery.to for delivery in contact_messages()] == ["+6281233334444"]

    other = confirmed_booking(booking.start + timedelta(days=1))
    welfare_sweep(now=other.end + 15 * MINUTE)
    for party in (other.customer, other.companion.user):
        meeting.say_fine(booking=other, user=party, now=other.end + 20 * MINUTE)
    assert welfare_sweep(now=other.end + 30 * MINUTE)["escalated"] == 0
    assert not SafetyAlert.objects.filter(booking=other).exists()


def test_without_a_trusted_contact_staff_are_still_alerted(booking):
    welfare_sweep(now=booking.end + 15 * MINUTE)
    assert welfare_sweep(now=booking.end + 30 * MINUTE)["escalated"] == 1
    assert not contact_messages() and SafetyAlert.objects.filter(kind=AlertKind.WELFARE).count() == 1


def test_a_late_first_sweep_leaves_15_minutes_to_answer(booking):
    assert welfare_sweep(now=booking.end + 40 * MINUTE) == {"asked": 1, "escalated": 0}
    assert welfare_sweep(now=booking.end + 54 * MINUTE)["escalated"] == 0
    assert welfare_sweep(now=booking.end + 55 * MINUTE)["escalated"] == 1


def test_a_meeting_long_past_is_left_alone(booking):
    assert welfare_sweep(now=booking.end + timedelta(hours=13)) == {"asked": 0, "escalated": 0}


def test_the_question_goes_by_whatsapp_to_an_opted_in_party_without_any_code(booking):
    customer = booking.customer
    customer.phone, customer.phone_verified_at, customer.whatsapp_opt_in = "+6281255556666", timezone.now(), True
    customer.save()
    code = meeting.meeting_for(booking).code
    welfare_sweep(now=booking.end + 15 * MINUTE)
    whatsapp = Delivery.objects.get(recipient=customer, template_key="meeting_welfare_check")
    assert whatsapp.to == "+6281255556666" and booking.reference in whatsapp.body
    assert code not in whatsapp.body and "token" not in whatsapp.body


def test_every_step_is_on_the_timeline_in_time_order(booking):
    with_contact(booking.customer)
    welfare_sweep(now=booking.end + 15 * MINUTE)
    meeting.say_fine(booking=booking, user=booking.companion.user, now=booking.end + 17 * MINUTE)
    welfare_sweep(now=booking.end + 30 * MINUTE)
    assert hooks.registered()["timeline_steps"]
    steps = [step for step in timeline(booking) if step.key.startswith("safety-")]
    assert [step.key for step in steps] == [
        "safety-asked",
        "safety-fine",
        "safety-contact_told",
        "safety-escalated",
    ]
    times = [step.at for step in timeline(booking) if step.at]
    assert times == sorted(times)


def test_the_demo_clock_command_runs_the_sweep_at_a_given_time(booking, capsys):
    call_command("welfare_check_now", "--at", (booking.end + 16 * MINUTE).isoformat())
    assert "1 asked" in capsys.readouterr().out
    assert Meeting.objects.get(booking=booking).asked_at is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not is_postgresql(), reason="row races need PostgreSQL")
def test_two_sweeps_at_the_same_moment_do_each_step_once():
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    booking = confirmed_booking(start)
    with_contact(booking.customer)
    for moment in (booking.end + 15 * MINUTE, booking.end + 30 * MINUTE):
        assert at_once(*[lambda moment=moment: welfare_sweep(now=moment) for _ in range(3)]) == []
    assert len(asked_notifications(booking)) == 2
    assert SafetyAlert.objects.filter(booking=booking).count() == 1
    assert Delivery.objects.filter(on_behalf=True).count() == 1
    assert kinds(booking).count(SafetyEventKind.ASKED) == 1
    assert kinds(booking).count(SafetyEventKind.ESCALATED) == 1


def test_im_fine_is_one_tap_on_the_booking_page_the_question_links_there(booking, client):
    from django.urls import reverse

    welfare_sweep(now=booking.end + 15 * MINUTE)
    question = Notification.objects.get(recipient=booking.customer, event="meeting_welfare_check")
    page_url = reverse("bookings:detail", args=[booking.reference])
    client.force_login(booking.customer)
    assert client.get(reverse("notifications:open", args=[question.pk]))["Location"].startswith(page_url)
    page = client.get(page_url).content.decode()
    assert "data-im-fine" in page and reverse("safety:fine", args=[booking.reference]) in page
    assert client.post(reverse("safety:fine", args=[booking.reference])).status_code == 302
    assert Meeting.objects.get(booking=booking).customer_fine_at is not None
    assert "data-im-fine" not in client.get(page_url).content.decode()
