"""Email is delivered at least once (issue 11, failure 5): a lost booking confirmation is worse than one
sent twice. An email whose send was interrupted (the worker killed after the row was claimed "sending",
or the connection lost before the server answered) is sent again by the sweep, under a Message-ID taken
from the delivery row, the same on every attempt, so mail clients fold a duplicate. The server refusing
the recipient for good (5xx) fails the row at once; a transient error (4xx, a dropped connection, a
timeout) is retried with backoff. WhatsApp keeps its at-most-once rule (tests/notifications/test_whatsapp.py).
"""

import json
import os
import re
import smtplib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from notifications import sending, services
from notifications.models import Channel, Delivery
from notifications.tasks import send_delivery_task
from tests.conftest import requires_postgresql
from tests.factories import CustomerFactory
from tests.notifications.fake_smtp import FakeSMTP, Fault, FlakyBackend
from tests.notifications.test_whatsapp import _database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PAYOUT = {"amount": 75_000}


def email_delivery(user=None, event: str = "payout_paid") -> Delivery:
    """A pending email row, as notification_record leaves it (its task would run only after a commit)."""
    user = user or CustomerFactory(preferred_language="en")
    services.notification_record(recipient=user, event=event, context=PAYOUT)
    return Delivery.objects.filter(recipient=user, channel=Channel.EMAIL).latest("id")


def claimed_by_a_worker_that_died(delivery: Delivery, *, minutes_ago: int = 5) -> Delivery:
    """What _claim leaves when the worker is killed right after it (pending → sending, one attempt)."""
    started = timezone.now() - timedelta(minutes=minutes_ago)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING, attempts=1, sending_started_at=started, updated_at=started
    )
    delivery.refresh_from_db()
    return delivery


def send(delivery: Delivery) -> str:
    """One attempt through the task, as a worker runs it (in-process: a retry is left to the sweep)."""
    return send_delivery_task.apply(args=[delivery.pk]).get()


def message_id_of(delivery: Delivery) -> re.Pattern:
    return re.compile(rf"<delivery-{delivery.pk}\.\d+@testserver>")


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.notifications.fake_smtp.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.calls = [], 0
    return FlakyBackend


# --- Interrupted sends: at least once -------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_email_left_sending_by_a_killed_worker_is_sent_once_by_the_sweep():
    delivery = claimed_by_a_worker_that_died(email_delivery())

    assert services.deliveries_sweep() == 1  # eager in tests: sent now

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.provider_id) == (
        Delivery.Status.SENT,
        2,
        f"email-{delivery.pk}",
    )
    (sent,) = mail.outbox
    assert sent.to == [delivery.to] and sent.subject == "Kompanion: Payout sent"
    assert message_id_of(delivery).fullmatch(sent.message()["Message-ID"])
    # Sent means done: later sweeps leave it alone.
    assert services.deliveries_sweep(now=timezone.now() + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_email_being_sent_right_now_is_left_to_its_worker():
    delivery = claimed_by_a_worker_that_died(email_delivery(), minutes_ago=0)

    assert services.deliveries_sweep() == 0
    assert services.delivery_send(delivery_id=delivery.pk).status == Delivery.Status.SENDING
    assert mail.outbox == []
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1


@pytest.mark.django_db
def test_an_email_interrupted_on_every_attempt_fails_after_the_last_one():
    delivery = claimed_by_a_worker_that_died(email_delivery())
    Delivery.objects.filter(pk=delivery.pk).update(attempts=sending.MAX_ATTEMPTS)

    services.deliveries_sweep()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        Delivery.Status.FAILED,
        sending.MAX_ATTEMPTS,
        "interrupted while sending",
    )
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_interrupted_email_to_someone_who_turned_email_off_meanwhile_is_not_sent():
    delivery = claimed_by_a_worker_that_died(email_delivery())
    delivery.recipient.email_notifications = False
    delivery.recipient.save(update_fields=["email_notifications"])

    services.deliveries_sweep()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == (Delivery.Status.FAILED, "consent")
    assert mail.outbox == []


# --- The Message-ID -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_message_id_is_the_same_on_every_attempt_and_differs_between_deliveries(flaky):
    user = CustomerFactory(preferred_language="en")
    first, second = email_delivery(user), email_delivery(user, "payout_rejected")
    # The server took the message, and the connection dropped before it said so.
    flaky.failures = [(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True)]

    assert send(first) == Delivery.Status.PENDING
    assert services.deliveries_sweep(now=timezone.now() + timedelta(minutes=5)) == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts, second.status, second.attempts) == (
        Delivery.Status.SENT,
        2,
        Delivery.Status.SENT,
        1,
    )
    ids = [message.message()["Message-ID"] for message in mail.outbox]
    first_ids = [value for value in ids if message_id_of(first).fullmatch(value)]
    second_ids = [value for value in ids if message_id_of(second).fullmatch(value)]
    assert len(ids) == 3 and len(first_ids) == 2 and len(second_ids) == 1
    assert first_ids[0] == first_ids[1]  # twice at worst, and the mail client folds the two
    assert second_ids[0] != first_ids[0]


# --- What the server says -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_recipient_refused_for_good_fails_the_row_and_is_never_sent_again(flaky):
    delivery = email_delivery()
    refused = smtplib.SMTPRecipientsRefused({delivery.to: (550, b"5.1.1 no such user")})
    flaky.failures = [(refused, False)]

    assert send(delivery) == Delivery.Status.FAILED

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error_code) == (Delivery.Status.FAILED, 1, "550")
    assert "no such user" in delivery.last_error
    assert services.deliveries_sweep(now=timezone.now() + timedelta(hours=3)) == 0
    assert flaky.calls == 1 and mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        TimeoutError("timed out"),
        ConnectionRefusedError(111, "Connection refused"),
        smtplib.SMTPRecipientsRefused({"x@example.id": (451, b"4.7.1 try again later")}),
        smtplib.SMTPDataError(421, b"4.3.0 try again later"),
        smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"),  # ours to fix: not the recipient's fault
    ],
    ids=["disconnected", "timeout", "refused-connection", "recipient-451", "data-421", "login-535"],
)
def test_a_transient_smtp_error_is_retried_with_backoff_and_then_sent(flaky, error):
    delivery = email_delivery()
    flaky.failures = [(error, False)]

    assert send(delivery) == Delivery.Status.PENDING
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 1) and delivery.last_error
    # Not before its backoff; then the sweep (or the task's own retry) sends it.
    assert services.deliveries_sweep(now=timezone.now() + timedelta(seconds=20)) == 0
    assert services.deliveries_sweep(now=timezone.now() + timedelta(minutes=2)) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
    assert flaky.calls == 2 and len(mail.outbox) == 1


# --- Through a real SMTP conversation -------------------------------------------------------------------------


def smtp_settings(port: int, *, timeout: float) -> dict:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_TIMEOUT": timeout,
    }


@pytest.fixture
def smtp_server(settings):
    with FakeSMTP() as server:
        for name, value in smtp_settings(server.port, timeout=2).items():
            setattr(settings, name, value)
        yield server


@pytest.mark.django_db
@pytest.mark.parametrize("fault", [Fault(drop_after_data=True), Fault(hang_after_data=True)], ids=["drop", "timeout"])
def test_a_connection_lost_before_the_server_answered_is_sent_again_under_the_same_message_id(smtp_server, fault):
    delivery = email_delivery()
    smtp_server.fail_next(fault)

    assert send(delivery) == Delivery.Status.PENDING
    smtp_server.release()
    services.deliveries_sweep(now=timezone.now() + timedelta(minutes=5))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"] and message_id_of(delivery).fullmatch(first["Message-ID"])


@pytest.mark.django_db
def test_a_recipient_the_server_refuses_for_good_is_not_sent_again(smtp_server):
    delivery = email_delivery()
    smtp_server.fail_next(Fault(refuse_recipient=550))

    assert send(delivery) == Delivery.Status.FAILED
    assert services.deliveries_sweep(now=timezone.now() + timedelta(hours=3)) == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == (Delivery.Status.FAILED, "550")
    assert smtp_server.messages == [] and smtp_server.connections == 1


@pytest.mark.django_db
def test_a_recipient_refused_for_now_is_sent_on_the_retry(smtp_server):
    delivery = email_delivery()
    smtp_server.fail_next(Fault(refuse_recipient=451))

    assert send(delivery) == Delivery.Status.PENDING
    services.deliveries_sweep(now=timezone.now() + timedelta(minutes=5))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
    (received,) = smtp_server.messages
    assert received["To"] == delivery.to and message_id_of(delivery).fullmatch(received["Message-ID"])


WORKER_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import override_settings
from notifications import services
with override_settings(**json.loads(sys.argv[1])):
    services.delivery_send(delivery_id=int(sys.argv[2]))
"""


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_email_whose_worker_was_killed_mid_send_is_sent_again_by_the_sweep(settings, monkeypatch):
    """A worker process of its own sends through SMTP; the server takes the message and keeps the answer
    back; the worker is SIGKILLed. The row stays "sending"; once stale, the sweep sends it again."""
    with monkeypatch.context() as patched:  # committed at once here: keep its task from sending it in-process
        patched.setattr(send_delivery_task, "delay", lambda delivery_id: None)
        delivery = email_delivery()
    assert delivery.status == Delivery.Status.PENDING
    with FakeSMTP() as server:
        server.fail_next(Fault(hang_after_data=True))
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, json.dumps(smtp_settings(server.port, timeout=60)), str(delivery.pk)],
            cwd=BASE_DIR,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            received = server.wait_for_messages(1, timeout=60)
            alive = worker.poll() is None
        finally:
            worker.kill()  # SIGKILL: no except, no finally in the worker
            _out, errors = worker.communicate(timeout=30)
            server.release()
        assert received and alive, f"the worker did not reach the SMTP server: {errors.decode()[-2000:]}"

        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Delivery.Status.SENDING, 1)
        # Soon after, it may still be under way: hands off.
        assert services.deliveries_sweep() == 0
        assert services.delivery_send(delivery_id=delivery.pk).status == Delivery.Status.SENDING

        for name, value in smtp_settings(server.port, timeout=5).items():
            setattr(settings, name, value)
        # Time passes (the claim is moved back): the sweep finds the stale attempt and sends it again.
        stale_since = timezone.now() - sending.SENDING_STALE_AFTER - timedelta(seconds=1)
        Delivery.objects.filter(pk=delivery.pk).update(sending_started_at=stale_since)
        assert services.deliveries_sweep() == 1  # eager in tests: sent now

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
    first, second = server.messages  # twice at worst, never zero
    assert first["Message-ID"] == second["Message-ID"] and message_id_of(delivery).fullmatch(first["Message-ID"])
