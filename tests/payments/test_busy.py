"""A row held by someone else past the lock timeout (PostgreSQL, a second connection in a thread):
the webhook answers 503 so Midtrans retries, with nothing recorded; a page says "try again"; and once
the row is free the same request goes through. Never a 500, never a wait longer than the timeout."""

import json
import threading
from contextlib import contextmanager

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.db import connections, transaction
from django.utils import translation

from bookings.models import Booking, BookingStatus
from payments import services
from payments.midtrans_rules import signature
from payments.models import Payment, PaymentNotification
from tests.conftest import requires_postgresql
from tests.payments.helpers import accepted_on_the_real_clock

pytestmark = [
    requires_postgresql,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]

URL = "/webhooks/midtrans/"


@contextmanager
def held(model, pk):
    """Another connection locks the row (FOR UPDATE) until the block ends."""
    locked, release = threading.Event(), threading.Event()
    failure: list = []

    def hold():
        try:
            with transaction.atomic():
                list(model.objects.select_for_update().filter(pk=pk))
                locked.set()
                release.wait(timeout=30)
        except BaseException as error:  # noqa: BLE001 - reported below
            failure.append(error)
            locked.set()
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert locked.wait(timeout=10) and not failure, failure
    try:
        yield
    finally:
        release.set()
        holder.join(timeout=10)


def settlement_body(payment):
    gross_amount = f"{payment.amount}.00"
    return {
        "order_id": payment.order_id,
        "status_code": "200",
        "gross_amount": gross_amount,
        "transaction_status": "settlement",
        "fraud_status": "accept",
        "payment_type": "qris",
        "transaction_id": "busy-test-0001",
        "signature_key": signature(
            order_id=payment.order_id,
            status_code="200",
            gross_amount=gross_amount,
            server_key=django_settings.MIDTRANS_SERVER_KEY,
        ),
    }


@pytest.fixture
def short_locks(settings):
    settings.LOCK_TIMEOUT_MS = 200


@pytest.mark.parametrize("locked", ["payment", "booking"])
def test_the_webhook_answers_503_while_a_row_is_locked_then_applies_it(client, short_locks, locked):
    booking = accepted_on_the_real_clock()
    payment = services.payment_create(booking=booking)
    body = json.dumps(settlement_body(payment))
    row = (Payment, payment.pk) if locked == "payment" else (Booking, booking.pk)

    with held(*row):
        busy = client.post(URL, data=body, content_type="application/json")

    assert (busy.status_code, busy.json()) == (503, {"status": "retry"})
    assert PaymentNotification.objects.count() == 0
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert (payment.status, booking.status) == (Payment.Status.CREATED, BookingStatus.AWAITING_PAYMENT)
    # Midtrans retries: now it goes through.
    again = client.post(URL, data=body, content_type="application/json")
    assert (again.status_code, again.json()["verdict"]) == (200, PaymentNotification.Verdict.APPLIED)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_pay_while_the_booking_is_locked_says_try_again(client, short_locks):
    booking = accepted_on_the_real_clock()
    client.force_login(booking.customer)

    with held(Booking, booking.pk):
        response = client.post(f"/bookings/{booking.reference}/pay/")

    assert response.status_code == 302 and response["Location"] == f"/bookings/{booking.reference}/"
    with translation.override("id"):  # the customer's page language
        busy = translation.gettext("Many people are booking right now. Please try again in a moment.")
    assert [str(message) for message in get_messages(response.wsgi_request)] == [busy]
    assert Payment.objects.count() == 0
