"""A status callback that outruns the answer to our own create call is kept and applied; Twilio
saying the person blocked us or opted out switches their WhatsApp off (recorded as consent)."""

import pytest
from django.utils import translation

from accounts.models import ConsentRecord
from notifications import phone_codes, services
from notifications.errors import PhoneVerificationError
from notifications.models import Delivery
from tests.notifications.fake_twilio import Fault, twilio_error
from tests.notifications.test_whatsapp import fake, in_thread, queued_whatsapp, reachable, twilio  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_delivered_callback_that_arrives_before_the_sid_is_saved_is_applied(twilio, client):  # noqa: F811
    delivery = queued_whatsapp(reachable())
    twilio.fail_next(Fault(hang=True))  # Twilio takes the message; its answer to us is slow
    worker, errors = in_thread(services.delivery_send, delivery_id=delivery.pk)
    try:
        assert twilio.wait_for_messages(1, timeout=10)
        sid = twilio.messages[0].sid
        # Meanwhile WhatsApp already delivered it, and Twilio tells us.
        assert twilio.send_status_callback(client, sid, "delivered").status_code == 200
        assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENDING
    finally:
        twilio.release()
        worker.join(timeout=10)
    assert errors == []
    delivery.refresh_from_db()
    assert (delivery.provider_id, delivery.status) == (sid, Delivery.Status.DELIVERED)


@pytest.mark.parametrize("code", [63014, 21610])
def test_a_person_who_blocked_us_or_opted_out_gets_no_more_whatsapp(twilio, code):  # noqa: F811
    person = reachable()
    delivery = queued_whatsapp(person)
    status, body = twilio_error(code)
    twilio.fail_next(Fault(status=status, code=code, message=body["message"]))
    services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    person.refresh_from_db()
    assert (delivery.status, delivery.error_code) == (Delivery.Status.FAILED, str(code))
    assert person.whatsapp_opt_in is False
    consent = ConsentRecord.objects.filter(user=person).latest("created_at")
    assert consent.granted is False and str(code) in consent.user_agent
    services.notification_record(recipient=person, event="payout_paid", context={"amount": 60_000})
    assert Delivery.objects.filter(recipient=person, channel="whatsapp").count() == 1  # only the failed one
    assert Delivery.objects.filter(recipient=person, channel="email", template_key="payout_paid").exists()


def test_a_failed_callback_with_a_refusal_code_also_switches_whatsapp_off(twilio, client):  # noqa: F811
    person = reachable()
    delivery = queued_whatsapp(person)
    services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    twilio.send_status_callback(client, delivery.provider_id, "failed", error_code=63014)
    person.refresh_from_db()
    assert person.whatsapp_opt_in is False


def test_genuine_callbacks_are_never_rate_limited_but_forgeries_are(twilio, client, settings):  # noqa: F811
    settings.TWILIO_WEBHOOK_RATE_PER_MINUTE = 2
    person = reachable()
    delivery = queued_whatsapp(person)
    services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    for status in ("sent", "delivered", "read", "read", "read"):
        assert twilio.send_status_callback(client, delivery.provider_id, status).status_code == 200
    params = twilio.status_params(delivery.provider_id, "failed", error_code=30008)
    url = "http://testserver/webhooks/twilio/status/"
    answers = [twilio.post(client, url, params, signature="forged").status_code for _ in range(3)]
    assert answers == [403, 403, 429]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.READ


def test_no_codes_to_a_number_that_said_stop(twilio, client):  # noqa: F811
    person = reachable(phone_verified_at=None)
    assert twilio.send_inbound(client, person.phone, "BERHENTI").status_code == 200
    with translation.override("en"), pytest.raises(PhoneVerificationError, match="asked us to stop"):
        phone_codes.phone_verification_start(user=person)
    assert twilio.send_inbound(client, person.phone, "MULAI").status_code == 200
    phone_codes.phone_verification_start(user=person)
    assert Delivery.objects.filter(recipient=person, sensitive=True).exists()
