"""Checkout attempts, the simulator's pages, reconciliation of a lost webhook, webhook limits."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import BookingStatus
from payments import ledger, services
from payments.errors import PaymentError
from payments.gateways import GatewayError
from payments.gateways.simulator import SimulatorGateway
from payments.models import Payment, PaymentNotification, SimulatorTransaction
from tests.payments.helpers import accepted_on_the_real_clock

pytestmark = pytest.mark.django_db
FINISH = "http://testserver/finish/"


@pytest.fixture
def booking():
    """Accepted on the real clock (the simulator's checkout compares with the real time)."""
    return accepted_on_the_real_clock()


def checkout(booking, **kwargs):
    return services.payment_checkout(booking_id=booking.pk, actor=booking.customer, finish_url=FINISH, **kwargs)


def test_checkout_expires_with_the_payment_deadline_and_is_reused_while_open(booking):
    first = checkout(booking)
    assert first.order_id == f"{booking.reference}-1" and first.amount == booking.total
    assert first.expires_at == booking.payment_deadline
    assert SimulatorTransaction.objects.get(order_id=first.order_id).expires_at == booking.payment_deadline
    assert first.redirect_url == f"http://testserver/payments/simulator/{first.order_id}/"
    assert checkout(booking).pk == first.pk  # a second click: the same attempt, no second charge possible
    # After a failed attempt a new one gets its own order id.
    SimulatorGateway().act(first.order_id, "fail")
    services.payment_check(payment_id=first.pk)
    second = checkout(booking)
    assert second.order_id == f"{booking.reference}-2"


def test_checkout_is_refused_for_others_late_or_paid(booking):
    with pytest.raises(PaymentError, match="Only the customer"):
        services.payment_checkout(booking_id=booking.pk, actor=booking.companion.user, finish_url=FINISH)
    with pytest.raises(PaymentError, match="time to pay"):
        checkout(booking, now=booking.payment_deadline - timedelta(minutes=1))
    payment = checkout(booking)
    SimulatorGateway().act(payment.order_id, "pay_qris")
    services.payment_check(payment_id=payment.pk)
    with pytest.raises(PaymentError, match="already paid"):
        checkout(booking)
    assert Payment.objects.filter(booking=booking).count() == 1


def test_items_sum_to_the_total(booking):
    items = services.checkout_items(booking)
    assert sum(item.price * item.quantity for item in items) == booking.total
    assert all(len(item.name) <= 50 for item in items)


def test_a_lost_webhook_is_found_by_reconciliation(booking):
    payment = checkout(booking)
    SimulatorGateway().act(payment.order_id, "pay_silently")  # paid at the provider; no notification arrives
    assert services.payments_reconcile(now=payment.created_at + timedelta(minutes=1)) == {}  # too early to ask
    counts = services.payments_reconcile(now=payment.created_at + timedelta(minutes=6))
    assert counts == {PaymentNotification.Verdict.APPLIED: 1}
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert ledger.balance(ledger.escrow_account(booking.pk)) == booking.total
    assert PaymentNotification.objects.get().source == PaymentNotification.Source.STATUS_API
    # Nothing open is left to ask about.
    assert services.payments_reconcile(now=payment.created_at + timedelta(minutes=12)) == {}


def test_an_abandoned_checkout_is_closed_after_it_expires(booking):
    payment = checkout(booking)
    assert services.payment_check(payment_id=payment.pk) == "not_found"  # no method chosen yet
    after = booking.payment_deadline + timedelta(minutes=1)
    SimulatorTransaction.objects.filter(order_id=payment.order_id).update(expires_at=timezone.now())
    assert services.payment_check(payment_id=payment.pk, now=after) == "abandoned"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED


# --- Pages -------------------------------------------------------------------------------------------------------


def test_the_simulator_flow_through_the_pages(client, booking, webhook_over_http):
    client.force_login(booking.customer)
    response = client.post(reverse("payments:checkout", args=[booking.reference]))
    simulator_url = response["Location"]
    assert client.get(simulator_url).status_code == 200
    response = client.post(simulator_url, {"action": "pay_qris"})
    assert response["Location"] == FINISH.replace("/finish/", "") + reverse("payments:status", args=[booking.reference])
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert [call.response.status_code for call in webhook_over_http.calls] == [200]


def test_the_simulator_is_only_for_its_customer_and_only_in_simulator_mode(client, booking, settings):
    payment = checkout(booking)
    url = reverse("payments:simulator", args=[payment.order_id])
    client.force_login(booking.companion.user)
    assert client.get(url).status_code == 404
    client.force_login(booking.customer)
    assert client.get(url).status_code == 200
    settings.PAYMENT_GATEWAY = "midtrans"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "pay_qris"}).status_code == 404
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT


def test_webhook_rate_limit_and_json_only(client, settings):
    settings.PAYMENT_WEBHOOK_RATE_PER_MINUTE = 3
    url = reverse("payments:midtrans_notification")
    assert client.post(url, data="order_id=1", content_type="application/x-www-form-urlencoded").status_code == 415
    # Not a notification (no status_code, gross_amount or signature_key): 400, counted all the same.
    assert client.post(url, data=json.dumps({"order_id": "x"}), content_type="application/json").status_code == 400
    assert client.post(url, data=json.dumps({"order_id": "x"}), content_type="application/json").status_code == 400
    assert client.post(url, data=json.dumps({"order_id": "x"}), content_type="application/json").status_code == 429


def test_withdrawing_cancels_an_issued_virtual_account_at_the_provider(booking, django_capture_on_commit_callbacks):
    payment = checkout(booking)
    SimulatorGateway().act(payment.order_id, "pending_va")
    services.payment_check(payment_id=payment.pk)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.booking_withdraw(booking_id=booking.pk, actor=booking.customer)
    payment.refresh_from_db()
    assert (payment.status, payment.provider_status) == (Payment.Status.FAILED, "cancel")
    assert SimulatorTransaction.objects.get(order_id=payment.order_id).transaction_status == "cancel"
    # The virtual account can no longer be paid.
    with pytest.raises(GatewayError):
        SimulatorGateway().act(payment.order_id, "pay_va")
