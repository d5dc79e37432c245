"""Staff see notifications and deliveries with filters and can send failed ones again; the sweep
re-sends deliveries whose task was lost and resolves interrupted sends."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import NotAllowed
from notifications import phone_codes, replies, services
from notifications.models import Channel, Delivery, OutboxMessage
from notifications.services import notification_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return CustomerFactory(whatsapp_opt_in=True, phone_verified_at=timezone.now())


def test_failed_deliveries_are_listed_and_sent_again_from_the_admin(client, staff, person):
    notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})
    whatsapp = Delivery.objects.get(channel=Channel.WHATSAPP)
    Delivery.objects.filter(pk=whatsapp.pk).update(status=Delivery.Status.FAILED, error_code="30008")
    client.force_login(staff)
    listing = client.get(reverse("admin:notifications_delivery_changelist"), {"status__exact": "failed"})
    assert listing.status_code == 200 and "30008" in listing.content.decode()
    client.post(
        reverse("admin:notifications_delivery_changelist"), {"action": "retry", "_selected_action": [whatsapp.pk]}
    )
    whatsapp.refresh_from_db()
    assert (whatsapp.status, whatsapp.attempts) == (Delivery.Status.PENDING, 0)
    services.delivery_send(delivery_id=whatsapp.pk)
    whatsapp.refresh_from_db()
    assert whatsapp.status == Delivery.Status.SENT and OutboxMessage.objects.count() == 1


def test_only_staff_may_send_a_delivery_again(person):
    notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})
    whatsapp = Delivery.objects.get(channel=Channel.WHATSAPP)
    Delivery.objects.filter(pk=whatsapp.pk).update(status=Delivery.Status.FAILED, error_code="30008")
    with pytest.raises(NotAllowed):
        services.delivery_retry(delivery_id=whatsapp.pk, actor=person)
    whatsapp.refresh_from_db()
    assert (whatsapp.status, whatsapp.error_code, whatsapp.attempts) == (Delivery.Status.FAILED, "30008", 0)


@pytest.mark.parametrize(
    ("body", "granted"),
    [("STOP", False), (" berhenti. ", False), ("Stop!", False), ("MULAI", True), ("start", True), ("stop it", None)],
)
def test_stop_and_start_words_are_read_in_one_place(body, granted):
    assert replies.consent_word(body) is granted


def test_a_send_interrupted_after_the_provider_accepted_is_not_sent_again(person):
    """Outbox backend: the "phone" got the message, the worker died before recording it."""
    notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})
    whatsapp = Delivery.objects.get(channel=Channel.WHATSAPP)
    started = timezone.now() - timedelta(minutes=5)
    OutboxMessage.objects.create(to=person.phone, template_key="payout_paid", body=whatsapp.body, sid="SMalreadythere")
    OutboxMessage.objects.filter(sid="SMalreadythere").update(created_at=started + timedelta(seconds=1))
    Delivery.objects.filter(pk=whatsapp.pk).update(
        status=Delivery.Status.SENDING, sending_started_at=started, attempts=1
    )
    services.delivery_send(delivery_id=whatsapp.pk)
    whatsapp.refresh_from_db()
    assert (whatsapp.status, whatsapp.provider_id) == (Delivery.Status.SENT, "SMalreadythere")
    assert OutboxMessage.objects.count() == 1


def test_a_recent_sending_row_is_left_to_the_worker_that_has_it(person):
    notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})
    whatsapp = Delivery.objects.get(channel=Channel.WHATSAPP)
    Delivery.objects.filter(pk=whatsapp.pk).update(status=Delivery.Status.SENDING, sending_started_at=timezone.now())
    services.delivery_send(delivery_id=whatsapp.pk)
    assert OutboxMessage.objects.count() == 0
    assert Delivery.objects.get(pk=whatsapp.pk).status == Delivery.Status.SENDING


def test_the_sweep_sends_pending_deliveries_whose_task_was_lost(person):
    notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})  # no commit: no task
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 2
    assert services.deliveries_sweep(now=timezone.now() + timedelta(minutes=2)) == 2  # eager in tests: sent now
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert services.deliveries_sweep(now=timezone.now() + timedelta(minutes=4)) == 0


def test_an_email_is_sent_with_text_and_html(person, mailoutbox):
    person.preferred_language = "en"
    person.save()
    notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})
    email = Delivery.objects.get(channel=Channel.EMAIL)
    services.delivery_send(delivery_id=email.pk)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.subject == "Kompanion: Payout sent" and message.to == [person.email]
    assert "Rp\u00a075,000" in message.body and "http://testserver/companion/earnings/" in message.body
    html = message.alternatives[0][0]
    assert "Payout sent" in html and 'href="http://testserver/companion/earnings/"' in html


def test_a_refused_delivery_is_never_sent_again(client, staff, person):
    """Twilio said the person blocked us (63014): staff cannot retry it, nor can a later send reach them."""
    notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})
    whatsapp = Delivery.objects.get(channel=Channel.WHATSAPP)
    Delivery.objects.filter(pk=whatsapp.pk).update(status=Delivery.Status.FAILED, error_code="63014")
    client.force_login(staff)
    client.post(
        reverse("admin:notifications_delivery_changelist"), {"action": "retry", "_selected_action": [whatsapp.pk]}
    )
    assert Delivery.objects.get(pk=whatsapp.pk).status == Delivery.Status.FAILED


def test_consent_is_read_again_when_sending(person):
    """A STOP (or a number change) while the message waited: it is not sent."""
    from accounts import services as account_services

    notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})
    whatsapp = Delivery.objects.get(channel=Channel.WHATSAPP)
    account_services.user_set_whatsapp_opt_in(user=person, granted=False, source="reply STOP")
    services.delivery_send(delivery_id=whatsapp.pk)
    whatsapp.refresh_from_db()
    assert (whatsapp.status, whatsapp.error_code) == (Delivery.Status.FAILED, "consent")
    assert OutboxMessage.objects.count() == 0


def test_a_live_code_is_not_shown_in_the_admin(client, staff, person, django_capture_on_commit_callbacks):
    person.phone_verified_at = None
    person.save()
    phone_codes.phone_verification_start(user=person)  # no commit: the code's delivery waits, pending
    import re

    code_delivery = Delivery.objects.get(sensitive=True)
    code = re.search(r"\b\d{6}\b", code_delivery.body).group()  # in the text until it is sent
    client.force_login(staff)
    page = client.get(reverse("admin:notifications_delivery_change", args=[code_delivery.pk]))
    assert page.status_code == 200 and code not in page.content.decode()


def test_a_broker_outage_at_commit_keeps_the_change_and_leaves_the_rows_for_the_sweep(
    person, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from notifications import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("broker unreachable")

    monkeypatch.setattr(tasks.send_delivery_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})

    assert len(callbacks) == 2  # the email's task and the WhatsApp message's task were both attempted
    assert sorted(Delivery.objects.values_list("channel", "status")) == [
        (Channel.EMAIL, Delivery.Status.PENDING),
        (Channel.WHATSAPP, Delivery.Status.PENDING),
    ]
