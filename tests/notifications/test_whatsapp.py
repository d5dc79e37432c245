"""WhatsApp through Twilio, tested at the HTTP boundary: our adapter drives the real `twilio` 9 client
against a local fake of Twilio's Messages API (tests/notifications/fake_twilio.py), and Twilio's webhooks
reach our views signed as Twilio signs them. Nothing of ours is mocked.

What must hold (../shared/INTEGRATIONS.md): templates outside the 24 h window; a delivery is sent at most
once, whatever retries, duplicate tasks, timeouts or killed workers happen (a send interrupted after Twilio
accepted it is resolved by asking Twilio, never by sending again); transient errors (5xx, 429, timeouts)
retry, permanent ones (21211, 63016...) stop; status callbacks only move a row forward and need a valid
signature over the exact URL; STOP/BERHENTI and START/MULAI change the consent once per message.
"""

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection, connections, transaction
from django.utils import timezone
from twilio.request_validator import RequestValidator

from accounts.models import ConsentDocument, ConsentRecord
from config.celery import app
from notifications import messages, services
from notifications.channels import ChannelError, WhatsAppMessage, get_whatsapp
from notifications.models import Channel, Delivery, InboundMessage
from notifications.tasks import send_delivery_task
from tests.conftest import requires_postgresql, requires_redis
from tests.factories import CompanionFactory, CustomerFactory
from tests.notifications.fake_twilio import INBOUND_URL, STATUS_URL, FakeTwilio, Fault, new_sid
from tests.worker_outcomes import Outcomes

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-only-twilio-auth-token"  # noqa: S105 (config.settings.test's)
SENDER = "+6281100000000"
TEMPLATES = {
    "booking_requested": "HX" + "1" * 32,
    "payout_rejected": "HX" + "2" * 32,
    "payout_paid": "HX" + "3" * 32,
}
PAYOUT = {"amount": 150_000, "reason": "Nomor rekening tidak cocok"}
BASE_DIR = Path(__file__).resolve().parent.parent.parent


def twilio_settings(base_url: str, *, timeout: float = 5.0) -> dict:
    return {
        "WHATSAPP_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": SENDER,
        "TWILIO_API_BASE_URL": base_url,
        "TWILIO_WHATSAPP_TEMPLATES": TEMPLATES,
        "TWILIO_TIMEOUT_SECONDS": timeout,
        "SITE_URL": "http://testserver",
    }


@pytest.fixture
def fake():
    """The fake Twilio, running (the `twilio` fixture points our settings at it)."""
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as fake_twilio:
        yield fake_twilio


@pytest.fixture
def twilio(fake, settings):
    for name, value in twilio_settings(fake.url).items():
        setattr(settings, name, value)
    return fake


def reachable(**overrides):
    """A customer with a verified, opted-in WhatsApp number."""
    return CustomerFactory(**{"phone_verified_at": timezone.now(), "whatsapp_opt_in": True, **overrides})


def record(user, event: str = "payout_rejected", context: dict | None = None):
    services.notification_record(recipient=user, event=event, context=PAYOUT if context is None else context)


def whatsapp_of(user) -> Delivery:
    return Delivery.objects.filter(recipient=user, channel=Channel.WHATSAPP).latest("id")


def whatsapp_delivery(user, event: str = "payout_rejected") -> Delivery:
    record(user, event)
    return whatsapp_of(user)


def queued_whatsapp(user) -> Delivery:
    """The pending WhatsApp row notification_record leaves, without the task it enqueues after commit: in
    a transactional test that task would run at once, in this process (eager), before the test is ready."""
    rendered = messages.render("payout_rejected", PAYOUT, language=user.preferred_language, zone=user.time_zone)
    return Delivery.objects.create(
        recipient=user,
        channel=Channel.WHATSAPP,
        to=user.phone,
        language=user.preferred_language,
        template_key="payout_rejected",
        body=f"*{rendered.title}*\n{rendered.body}\n{rendered.url}",
        variables=rendered.variables,
    )


def in_thread(function, **kwargs) -> tuple[threading.Thread, list]:
    """Runs `function` in a thread of its own (its own database connection, closed at the end): another
    worker. Returns the thread and the list that receives what it raised."""
    errors: list = []

    def run():
        try:
            function(**kwargs)
        except Exception as error:  # noqa: BLE001 (handed to the test)
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def sent(user, fake) -> Delivery:
    """A WhatsApp delivery sent through the fake (status "sent", its sid recorded)."""
    delivery = whatsapp_delivery(user)
    services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and fake.created_count >= 1
    return delivery


# --- Sending -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_verified_opted_in_user_gets_email_and_a_whatsapp_template_with_its_variables(twilio):
    user = reachable()
    record(user)
    channels = sorted(Delivery.objects.filter(recipient=user).values_list("channel", flat=True))
    assert channels == [Channel.EMAIL, Channel.WHATSAPP]
    delivery = whatsapp_of(user)
    assert delivery.status == Delivery.Status.PENDING

    services.delivery_send(delivery_id=delivery.pk)

    [create] = twilio.calls("POST")
    assert create.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert create.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert create.headers["User-Agent"].startswith("twilio-python/9.")  # the real client did the call
    form = create.form
    assert form["From"] == f"whatsapp:{SENDER}"
    assert form["To"] == f"whatsapp:{user.phone}"
    assert form["ContentSid"] == TEMPLATES["payout_rejected"]
    assert "Body" not in form  # a template, not free text (63016 outside the 24 h window)
    variables = json.loads(form["ContentVariables"])
    assert variables == {
        "1": "Rp\xa0150.000",
        "2": "Nomor rekening tidak cocok",
        "3": "http://testserver/companion/earnings/",
    }
    assert form["StatusCallback"] == STATUS_URL
    [message] = twilio.messages
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.provider_id == message.sid and delivery.provider_id.startswith("SM")
    assert delivery.attempts == 1 and delivery.sent_at is not None and delivery.error_code == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"phone_verified_at": None},
        {"whatsapp_opt_in": False},
        {"phone": "", "phone_verified_at": None},
    ],
    ids=["unverified-number", "opted-out", "no-number"],
)
def test_no_whatsapp_delivery_without_a_verified_opted_in_number(twilio, overrides):
    user = reachable(**overrides)
    record(user)
    assert list(Delivery.objects.filter(recipient=user).values_list("channel", flat=True)) == [Channel.EMAIL]
    assert twilio.requests == []


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_transient_error_leaves_the_row_pending_and_the_next_run_sends_it_once(twilio, status):
    delivery = whatsapp_delivery(reachable())
    twilio.fail_next(Fault(status=status))

    with pytest.raises(ChannelError) as raised:
        services.delivery_send(delivery_id=delivery.pk)

    assert raised.value.transient
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.provider_id) == (Delivery.Status.PENDING, 1, None)
    assert delivery.error_code == str(20429 if status == 429 else 20500) and delivery.last_error
    assert twilio.created_count == 0  # the refused call created nothing at Twilio

    assert send_delivery_task.apply(args=[delivery.pk]).get() == Delivery.Status.SENT
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
    assert twilio.created_count == 1 and delivery.provider_id == twilio.messages[0].sid
    assert len(twilio.calls("POST")) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("code", [21211, 63003, 63014, 21610])
def test_a_permanent_error_fails_the_row_without_retrying(twilio, code):
    delivery = whatsapp_delivery(reachable())
    twilio.fail_next(Fault(status=400, code=code))

    # The task returns (no retry scheduled): the row says what happened.
    assert send_delivery_task.apply(args=[delivery.pk]).get() == Delivery.Status.FAILED
    assert send_delivery_task.apply(args=[delivery.pk]).get() == Delivery.Status.FAILED

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code, delivery.attempts) == (Delivery.Status.FAILED, str(code), 1)
    assert delivery.provider_id is None and delivery.last_error
    assert len(twilio.calls("POST")) == 1 and twilio.created_count == 0


@pytest.mark.django_db
def test_sending_twice_sends_once(twilio):
    user = reachable()
    by_service = whatsapp_delivery(user)
    services.delivery_send(delivery_id=by_service.pk)
    services.delivery_send(delivery_id=by_service.pk)
    assert twilio.created_count == 1

    by_task = whatsapp_delivery(user, "payout_paid")
    assert send_delivery_task.apply(args=[by_task.pk]).get() == Delivery.Status.SENT
    assert send_delivery_task.apply(args=[by_task.pk]).get() == Delivery.Status.SENT
    assert twilio.created_count == 2
    assert len(twilio.calls("POST")) == 2
    by_service.refresh_from_db()
    by_task.refresh_from_db()
    assert {by_service.provider_id, by_task.provider_id} == {message.sid for message in twilio.messages}


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_leaves_a_delivery_alone_while_the_first_is_sending_it(twilio):
    delivery = queued_whatsapp(reachable())
    twilio.fail_next(Fault(hang=True))  # Twilio takes the message and is slow to answer
    first, errors = in_thread(services.delivery_send, delivery_id=delivery.pk)
    try:
        assert twilio.wait_for_messages(1, timeout=10)
        second = services.delivery_send(delivery_id=delivery.pk)  # a duplicate task, meanwhile
        assert second.status == Delivery.Status.SENDING
    finally:
        twilio.release()
        first.join(timeout=10)
    assert errors == []
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.provider_id == twilio.messages[0].sid
    assert twilio.created_count == 1 and len(twilio.calls("POST")) == 1


@pytest.mark.django_db
def test_a_timeout_is_a_transient_error(twilio, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    delivery = whatsapp_delivery(reachable())
    twilio.fail_next(Fault(status=503, delay=3))  # no answer within the client's timeout

    with pytest.raises(ChannelError) as raised:
        services.delivery_send(delivery_id=delivery.pk)

    # The client gave up on the answer: whether Twilio got the request is unknown, so the row stays
    # "sending" (asked about before any resend), never failed and never simply retried.
    assert raised.value.transient and raised.value.ambiguous and raised.value.code == "timeout"
    delivery.refresh_from_db()
    assert delivery.provider_id is None and delivery.status == Delivery.Status.SENDING
    assert twilio.created_count == 0


@pytest.mark.django_db
def test_a_timed_out_send_that_twilio_accepted_is_not_sent_again(twilio, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    delivery = whatsapp_delivery(reachable())
    twilio.fail_next(Fault(delay=3))  # Twilio creates the message, the answer comes too late

    try:  # the answer is lost: whether that raises (to retry) or leaves the row to the sweep is the code's choice
        services.delivery_send(delivery_id=delivery.pk)
    except ChannelError as error:
        assert error.transient
    assert twilio.created_count == 1

    # Later (the task's retry, or the sweep once the attempt is stale): asking Twilio shows it has it.
    later = timezone.now() + services.SENDING_STALE_AFTER + timedelta(minutes=1)
    services.delivery_send(delivery_id=delivery.pk, now=later)

    delivery.refresh_from_db()
    assert twilio.created_count == 1
    assert delivery.status == Delivery.Status.SENT and delivery.provider_id == twilio.messages[0].sid


# --- An interrupted send --------------------------------------------------------------------------------------

WORKER_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import override_settings
from notifications import services
with override_settings(**json.loads(sys.argv[1])):
    services.delivery_send(delivery_id=int(sys.argv[2]))
"""


def _database_url() -> str:
    """The test database this test process uses (pytest-django renamed it), for another process."""
    database = connection.settings_dict
    user = quote(database.get("USER") or "")
    password = f":{quote(database['PASSWORD'])}" if database.get("PASSWORD") else ""
    host = database.get("HOST") or "127.0.0.1"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(database['NAME'])}"


@requires_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("at_twilio", ["sent", "still-queued"])
def test_a_worker_killed_after_twilio_accepted_the_message_does_not_send_it_again(twilio, at_twilio):
    # "still-queued": Twilio's queue is backed up (bulk sends, WhatsApp's rate limits), so when the sweep
    # asks, the message has no date_sent yet.
    twilio.hold_queued = at_twilio == "still-queued"
    delivery = queued_whatsapp(reachable())
    twilio.fail_next(Fault(hang=True))  # accepts the message, then never answers
    worker = subprocess.Popen(  # a worker process of its own, on the same (committed) test database
        [sys.executable, "-c", WORKER_SCRIPT, json.dumps(twilio_settings(twilio.url)), str(delivery.pk)],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        accepted = twilio.wait_for_messages(1, timeout=60)
        alive = worker.poll() is None
    finally:
        worker.kill()  # SIGKILL: no except, no finally, no clean-up in the worker
        _out, errors = worker.communicate(timeout=30)
        twilio.release()
    assert accepted and alive, f"the worker did not reach Twilio: {errors.decode()[-2000:]}"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.provider_id) == (Delivery.Status.SENDING, 1, None)

    # A task redelivered soon after: the attempt is recent, so it may still be under way. Hands off.
    soon = delivery.sending_started_at + timedelta(seconds=30)
    assert services.delivery_send(delivery_id=delivery.pk, now=soon).status == Delivery.Status.SENDING
    assert twilio.calls("GET") == []

    # The sweep, once the attempt is stale: Twilio's list shows the message, which is adopted, not re-sent.
    stale = delivery.sending_started_at + timedelta(minutes=3)
    assert stale - delivery.sending_started_at > services.SENDING_STALE_AFTER
    services.delivery_send(delivery_id=delivery.pk, now=stale)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.provider_id == twilio.messages[0].sid
    assert twilio.created_count == 1 and len(twilio.calls("POST")) == 1
    [listed] = twilio.calls("GET")
    assert listed.query["To"] == f"whatsapp:{delivery.to}" and listed.query["From"] == f"whatsapp:{SENDER}"


@pytest.mark.django_db
def test_a_send_interrupted_before_twilio_got_it_is_sent_once_and_other_messages_are_not_adopted(twilio):
    user = reachable()
    earlier = sent(user, twilio)  # another message to the same number, recorded as ours already
    delivery = whatsapp_delivery(user, "payout_paid")
    started = timezone.now() - timedelta(minutes=5)  # claimed, then the worker died before calling Twilio
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING, attempts=1, sending_started_at=started
    )

    services.delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert twilio.created_count == 2 and len(twilio.calls("GET")) == 1
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert delivery.provider_id == twilio.messages[1].sid != earlier.provider_id
    assert json.loads(twilio.calls("POST")[1].form["ContentVariables"])["1"] == "Rp\xa0150.000"


@pytest.mark.django_db(transaction=True)
def test_resolving_an_interrupted_send_does_not_adopt_another_deliverys_message_in_flight(twilio):
    user = reachable()
    interrupted = queued_whatsapp(user)  # claimed 5 minutes ago; the worker died before calling Twilio
    started = timezone.now() - timedelta(minutes=5)
    Delivery.objects.filter(pk=interrupted.pk).update(
        status=Delivery.Status.SENDING, attempts=1, sending_started_at=started
    )
    other = queued_whatsapp(user)
    twilio.fail_next(Fault(hang=True))  # the other delivery's message reaches Twilio; its answer is slow
    worker, errors = in_thread(services.delivery_send, delivery_id=other.pk)
    try:
        assert twilio.wait_for_messages(1, timeout=10)
        services.delivery_send(delivery_id=interrupted.pk)  # the sweep resolves the interrupted one, meanwhile
    finally:
        twilio.release()
        worker.join(timeout=10)

    interrupted.refresh_from_db()
    other.refresh_from_db()
    assert errors == []
    assert interrupted.status == other.status == Delivery.Status.SENT
    assert other.provider_id == twilio.messages[0].sid  # the other delivery keeps its own message
    assert interrupted.provider_id == twilio.messages[1].sid  # the interrupted one is sent, once
    assert twilio.created_count == 2


@pytest.mark.django_db
def test_an_interrupted_send_waits_when_twilio_cannot_say_whether_it_got_it(twilio):
    delivery = whatsapp_delivery(reachable())
    started = timezone.now() - timedelta(minutes=5)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING, attempts=1, sending_started_at=started
    )
    twilio.fail_next(Fault(status=500), call="list")

    assert services.delivery_send(delivery_id=delivery.pk).status == Delivery.Status.SENDING
    assert twilio.created_count == 0  # rather later than twice

    services.delivery_send(delivery_id=delivery.pk)  # the next sweep: Twilio answers, it has nothing
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and twilio.created_count == 1


@pytest.mark.django_db
def test_the_sweep_resolves_a_stale_send_through_twilio_and_sends_a_delivery_whose_task_was_lost(twilio):
    user = reachable()
    interrupted, lost = whatsapp_delivery(user), whatsapp_delivery(user, "payout_paid")
    five_minutes_ago = timezone.now() - timedelta(minutes=5)
    Delivery.objects.filter(pk=interrupted.pk).update(
        status=Delivery.Status.SENDING, attempts=1, sending_started_at=five_minutes_ago
    )
    Delivery.objects.filter(pk=lost.pk).update(updated_at=five_minutes_ago)  # its task never arrived
    # The worker that claimed `interrupted` got it to Twilio, then died before recording the answer.
    get_whatsapp().send(
        WhatsAppMessage(
            to=interrupted.to,
            template_key=interrupted.template_key,
            body=interrupted.body,
            variables=interrupted.variables,
            content_sid=TEMPLATES[interrupted.template_key],
        )
    )
    [dead_workers] = twilio.messages  # Twilio's record of it: created five minutes ago, with the claim
    dead_workers.created_at = dead_workers.date_sent = five_minutes_ago.replace(microsecond=0)

    assert services.deliveries_sweep() == 2  # the beat task; its sends run in-process here (eager)

    interrupted.refresh_from_db()
    lost.refresh_from_db()
    assert twilio.created_count == 2
    assert interrupted.status == lost.status == Delivery.Status.SENT
    assert interrupted.provider_id == twilio.messages[0].sid and lost.provider_id == twilio.messages[1].sid
    assert services.deliveries_sweep() == 0 and twilio.created_count == 2


# --- The 24 h window --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_template_free_text_goes_only_inside_the_24_hour_window(twilio, client):
    user = reachable()
    outside = whatsapp_delivery(user, "verification_approved")  # no template configured for it
    services.delivery_send(delivery_id=outside.pk)
    outside.refresh_from_db()
    assert (outside.status, outside.error_code) == (Delivery.Status.FAILED, "63016")
    assert twilio.requests == []  # refused before calling Twilio

    assert twilio.send_inbound(client, user.phone, "Halo", to=SENDER).status_code == 200
    inside = whatsapp_delivery(user, "verification_approved")
    services.delivery_send(delivery_id=inside.pk)
    inside.refresh_from_db()
    assert inside.status == Delivery.Status.SENT
    [create] = twilio.calls("POST")
    assert create.form["Body"] == inside.body and "ContentSid" not in create.form
    assert create.form["Body"].startswith("*")  # the title in bold, then the text and the link


# --- Status callbacks -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_status_callbacks_move_a_delivery_forward_only(twilio, client):
    delivery = sent(reachable(), twilio)
    sid = delivery.provider_id

    for status, expected in [
        ("delivered", Delivery.Status.DELIVERED),
        ("read", Delivery.Status.READ),
        ("sent", Delivery.Status.READ),  # late: never undoes "read"
        ("delivered", Delivery.Status.READ),
        ("failed", Delivery.Status.READ),  # it was read: a late failure changes nothing
    ]:
        response = twilio.send_status_callback(client, sid, status)
        assert response.status_code == 200 and response["Content-Type"] == "text/xml"
        delivery.refresh_from_db()
        assert delivery.status == expected, status


@pytest.mark.django_db
def test_a_failure_after_sent_marks_the_delivery_failed_with_twilios_code(twilio, client):
    delivery = sent(reachable(), twilio)
    assert twilio.send_status_callback(client, delivery.provider_id, "sent").status_code == 200
    assert twilio.send_status_callback(client, delivery.provider_id, "failed", error_code=63016).status_code == 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == (Delivery.Status.FAILED, "63016")
    assert twilio.send_status_callback(client, delivery.provider_id, "delivered").status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED


@pytest.mark.django_db
def test_an_unknown_message_sid_is_acknowledged_and_changes_nothing(twilio, client):
    delivery = sent(reachable(), twilio)
    assert twilio.send_status_callback(client, new_sid(), "failed", error_code=30008).status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT


@pytest.mark.django_db
@pytest.mark.parametrize("forgery", ["wrong-token", "tampered", "other-url", "https-url", "missing", "garbage"])
def test_a_status_callback_without_a_valid_signature_is_refused(twilio, client, forgery):
    delivery = sent(reachable(), twilio)
    params = twilio.status_params(delivery.provider_id, "failed", error_code=30008)
    signature = {
        "wrong-token": RequestValidator("not-our-token").compute_signature(STATUS_URL, params),
        "tampered": twilio.sign(STATUS_URL, {**params, "MessageStatus": "read"}),  # other fields than posted
        "other-url": twilio.sign(INBOUND_URL, params),
        # Twilio signs the URL it was configured with: behind a TLS proxy that Django does not trust, the
        # scheme Django sees differs and the signature cannot match (SECURE_PROXY_SSL_HEADER must be right).
        "https-url": twilio.sign(STATUS_URL.replace("http:", "https:", 1), params),
        "missing": "",
        "garbage": "bm90IGEgc2lnbmF0dXJl",
    }[forgery]

    assert twilio.post(client, STATUS_URL, params, signature=signature).status_code == 403

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == (Delivery.Status.SENT, "")
    assert twilio.post(client, STATUS_URL, params).status_code == 200  # the same, signed: taken
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == (Delivery.Status.FAILED, "30008")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("signed_url", "taken"),
    [
        ("http://testserver/webhooks/twilio/status/", True),  # what Twilio calls: SITE_URL + the path
        ("http://testserver/webhooks/twilio/status", False),
        ("http://testserver:8000/webhooks/twilio/status/", False),
        ("http://127.0.0.1/webhooks/twilio/status/", False),
        ("http://testserver/webhooks/twilio/status/?retry=1", False),
    ],
)
def test_the_signature_is_checked_over_the_exact_url_twilio_called(twilio, client, signed_url, taken):
    delivery = sent(reachable(), twilio)
    params = twilio.status_params(delivery.provider_id, "delivered")
    response = twilio.post(client, STATUS_URL, params, signature=twilio.sign(signed_url, params))
    assert response.status_code == (200 if taken else 403)
    delivery.refresh_from_db()
    assert delivery.status == (Delivery.Status.DELIVERED if taken else Delivery.Status.SENT)


@pytest.mark.django_db
def test_webhooks_take_only_posts(twilio, client):
    assert client.get("/webhooks/twilio/status/").status_code == 405
    assert client.get("/webhooks/twilio/inbound/").status_code == 405


# --- Inbound: STOP / START --------------------------------------------------------------------------------------


def consents(user) -> list[bool]:
    return list(
        ConsentRecord.objects.filter(user=user, document=ConsentDocument.WHATSAPP)
        .order_by("created_at", "id")
        .values_list("granted", flat=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stop", "start"),
    [("STOP", "START"), ("BERHENTI", "MULAI"), (" berhenti! ", "Mulai.")],
)
def test_stop_turns_whatsapp_off_and_start_turns_it_back_on(twilio, client, stop, start):
    user = reachable()
    assert twilio.send_inbound(client, user.phone, stop, to=SENDER).status_code == 200
    user.refresh_from_db()
    assert user.whatsapp_opt_in is False and consents(user) == [False]
    record(user)
    assert not Delivery.objects.filter(recipient=user, channel=Channel.WHATSAPP).exists()

    assert twilio.send_inbound(client, user.phone, start, to=SENDER).status_code == 200
    user.refresh_from_db()
    assert user.whatsapp_opt_in is True and consents(user) == [False, True]
    record(user)
    assert Delivery.objects.filter(recipient=user, channel=Channel.WHATSAPP).count() == 1
    assert twilio.requests == []  # nothing was sent to Twilio by any of this


@pytest.mark.django_db
def test_an_ordinary_inbound_message_changes_no_consent(twilio, client):
    user = reachable()
    assert twilio.send_inbound(client, user.phone, "Stop kirim pesan jam segini dong", to=SENDER).status_code == 200
    user.refresh_from_db()
    assert user.whatsapp_opt_in is True and consents(user) == []
    assert InboundMessage.objects.get().sender == user.phone


@pytest.mark.django_db
def test_stop_applies_to_every_account_with_that_number(twilio, client):
    customer = reachable()
    companion = CompanionFactory(phone=customer.phone, phone_verified_at=timezone.now(), whatsapp_opt_in=True)
    other = reachable()
    twilio.send_inbound(client, customer.phone, "STOP", to=SENDER)
    for user, expected in [(customer, False), (companion, False), (other, True)]:
        user.refresh_from_db()
        assert user.whatsapp_opt_in is expected


@pytest.mark.django_db
def test_a_forged_inbound_message_is_refused_and_changes_nothing(twilio, client):
    user = reachable()
    response = twilio.send_inbound(client, user.phone, "STOP", to=SENDER, signature=twilio.sign("x", {}))
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.whatsapp_opt_in is True and consents(user) == []
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_the_same_inbound_message_twice_is_processed_once(twilio, client):
    user = reachable()
    stop_sid = new_sid()
    assert twilio.send_inbound(client, user.phone, "STOP", to=SENDER, sid=stop_sid).status_code == 200
    assert twilio.send_inbound(client, user.phone, "START", to=SENDER).status_code == 200
    # Twilio retries a webhook it thinks failed: the old STOP again must not undo the later START.
    assert twilio.send_inbound(client, user.phone, "STOP", to=SENDER, sid=stop_sid).status_code == 200
    user.refresh_from_db()
    assert user.whatsapp_opt_in is True and consents(user) == [False, True]
    assert InboundMessage.objects.filter(provider_id=stop_sid).count() == 1
    assert InboundMessage.objects.count() == 2


# --- A real Celery worker ----------------------------------------------------------------------------------------

WORKER_WAIT_SECONDS = 30


@pytest.mark.celery_worker
@requires_redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_a_committed_notification_through_twilio_exactly_once(twilio, worker_queue):
    user = reachable()
    with Outcomes(send_delivery_task.name, expected=3) as finished:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=[worker_queue]):
            with transaction.atomic():
                record(user)  # email + WhatsApp, enqueued only once this commits
                assert twilio.created_count == 0
            whatsapp = whatsapp_of(user)
            send_delivery_task.delay(whatsapp.pk)  # the same task delivered twice (e.g. the sweep)
            completed = finished.done.wait(timeout=WORKER_WAIT_SECONDS)
    assert completed, f"the worker did not run the sends within {WORKER_WAIT_SECONDS} s"
    assert finished.errors == []
    assert sorted(finished.results) == [Delivery.Status.SENT] * 3
    assert twilio.created_count == 1
    whatsapp.refresh_from_db()
    assert whatsapp.status == Delivery.Status.SENT and whatsapp.provider_id == twilio.messages[0].sid
    assert twilio.messages[0].content_sid == TEMPLATES["payout_rejected"]
    email = Delivery.objects.get(recipient=user, channel=Channel.EMAIL)
    assert email.status == Delivery.Status.SENT
    assert [message.to for message in mail.outbox] == [[user.email]]
