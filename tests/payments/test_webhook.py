"""The Midtrans notification webhook: signed JSON in, applied once, everything recorded."""

import json

import pytest
from django.conf import settings

from bookings.models import BookingStatus
from payments import ledger, services
from payments.midtrans_rules import signature
from payments.models import Entry, Payment, PaymentNotification
from tests.payments.helpers import accepted_on_the_real_clock

pytestmark = pytest.mark.django_db
URL = "/webhooks/midtrans/"
Verdict = PaymentNotification.Verdict


@pytest.fixture
def payment():
    """An accepted booking (real clock) with one payment attempt."""
    return services.payment_create(booking=accepted_on_the_real_clock())


def notification(payment, status="settlement", *, amount=None, status_code="200", fraud="accept", **extra):
    body = {
        "order_id": payment.order_id,
        "status_code": status_code,
        "gross_amount": f"{payment.amount if amount is None else amount}.00",
        "transaction_status": status,
        "fraud_status": fraud,
        "payment_type": "bank_transfer",
        "transaction_id": "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
        **extra,
    }
    body.setdefault(
        "signature_key",
        signature(
            order_id=body["order_id"],
            status_code=body["status_code"],
            gross_amount=body["gross_amount"],
            server_key=settings.MIDTRANS_SERVER_KEY,
        ),
    )
    return body


def post(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def state(payment):
    payment.refresh_from_db()
    payment.booking.refresh_from_db()
    return payment.status, payment.booking.status, Entry.objects.count()


def test_a_settlement_confirms_the_booking_and_moves_the_money_into_escrow(client, payment):
    response = post(client, notification(payment))
    assert response.status_code == 200 and response.json()["verdict"] == Verdict.APPLIED
    assert state(payment)[:2] == (Payment.Status.PAID, BookingStatus.CONFIRMED)
    assert ledger.balance(ledger.escrow_account(payment.booking_id)) == payment.amount
    assert ledger.balance(ledger.PROVIDER_CLEARING) == payment.amount
    assert ledger.unbalanced_journals() == []


def test_the_same_settlement_five_times_is_applied_once(client, payment):
    verdicts = [post(client, notification(payment)).json()["verdict"] for _ in range(5)]
    assert verdicts == [Verdict.APPLIED] + [Verdict.DUPLICATE] * 4
    assert Entry.objects.count() == 2
    assert ledger.balance(ledger.escrow_account(payment.booking_id)) == payment.amount
    assert PaymentNotification.objects.count() == 5  # every one kept, raw


def test_pending_after_settlement_is_stale_and_changes_nothing(client, payment):
    post(client, notification(payment))
    before = state(payment)
    response = post(client, notification(payment, "pending", status_code="201"))
    assert response.json()["verdict"] == Verdict.STALE
    assert state(payment) == before


def test_a_forged_signature_is_refused_recorded_and_changes_nothing(client, payment):
    before = state(payment)
    response = post(client, notification(payment, signature_key="0" * 128))
    assert response.status_code == 403
    assert state(payment) == before
    assert PaymentNotification.objects.get().verdict == Verdict.FORGED


def test_a_wrong_amount_is_recorded_and_nothing_is_paid(client, payment):
    before = state(payment)
    response = post(client, notification(payment, amount=payment.amount - 1))
    assert response.status_code == 200 and response.json()["verdict"] == Verdict.AMOUNT_MISMATCH
    assert state(payment) == before


def test_an_unknown_order_is_recorded(client, payment):
    body = notification(payment)
    body["order_id"] = "KMP-UNKNOWN-1"
    body["signature_key"] = signature(
        order_id=body["order_id"],
        status_code="200",
        gross_amount=body["gross_amount"],
        server_key=settings.MIDTRANS_SERVER_KEY,
    )
    assert post(client, body).json()["verdict"] == Verdict.UNKNOWN_ORDER
    assert PaymentNotification.objects.get().payment is None


def test_a_card_held_for_review_is_not_paid_until_accepted(client, payment):
    assert post(client, notification(payment, "capture", fraud="challenge")).json()["verdict"] == Verdict.APPLIED
    assert state(payment)[:2] == (Payment.Status.CHALLENGE, BookingStatus.AWAITING_PAYMENT)
    assert post(client, notification(payment, "capture", fraud="accept")).json()["verdict"] == Verdict.APPLIED
    assert state(payment)[:2] == (Payment.Status.PAID, BookingStatus.CONFIRMED)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b"{}",
        b'{"order_id": 5}',
        b'{"order_id": "KMP-1", "status_code": "200", "gross_amount": "1000.00"}',  # no signature_key
        b'{"order_id": "KMP-1", "status_code": 200, "gross_amount": "1000.00", "signature_key": "ab"}',
    ],
    ids=["not-json", "not-an-object", "empty", "order-id-not-a-string", "unsigned", "status-code-not-a-string"],
)
def test_a_body_that_is_not_a_notification_is_400_and_changes_nothing(client, payment, body):
    """Not a notification (not JSON, not an object, or without the string fields every Midtrans
    notification carries): 400, nothing recorded. 403 is only for a notification whose signature fails."""
    before = state(payment)
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"status": "error", "reason": "not JSON" if body == b"not json" else "not a notification"}
    assert state(payment) == before
    assert PaymentNotification.objects.count() == 0


def test_only_post_and_no_redirect(client):
    assert client.get(URL).status_code == 405
    # Without the slash too, answered directly (Midtrans does not follow redirects).
    assert client.post(URL.rstrip("/"), data="{}", content_type="application/json").status_code == 400
