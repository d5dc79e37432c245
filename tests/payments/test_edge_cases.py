"""The edges of the money flow: card payments voided or reviewed, two checkouts, sibling attempts,
refunds of captured card payments, and who may act on money in the admin."""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.urls import reverse

from bookings import services as booking_services
from bookings.errors import TransitionNotAllowed
from bookings.models import BookingStatus
from payments import ledger, services
from payments.errors import PaymentError
from payments.gateways.simulator import SimulatorGateway, notification_for
from payments.models import Payment, PaymentNotification, Refund, SimulatorTransaction
from tests.bookings.helpers import START
from tests.payments.helpers import PAID_AT, accepted, accepted_on_the_real_clock

pytestmark = pytest.mark.django_db
Verdict = PaymentNotification.Verdict


def provider_says(payment, status, *, fraud="accept", payment_type="credit_card", now=PAID_AT):
    """The simulator (as Midtrans) changes the transaction and notifies us."""
    record, _created = SimulatorTransaction.objects.update_or_create(
        order_id=payment.order_id,
        defaults={
            "gross_amount": payment.amount,
            "transaction_status": status,
            "payment_type": payment_type,
            "expires_at": payment.expires_at,
        },
    )
    body = {**notification_for(record), "fraud_status": fraud}
    return services.payment_apply_notification(payload=body, raw_body="{}", now=now)


def card_paid_booking():
    booking = accepted()
    payment = services.payment_create(booking=booking)
    assert provider_says(payment, "capture").verdict == Verdict.APPLIED
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert (payment.status, booking.status) == (Payment.Status.PAID, BookingStatus.CONFIRMED)
    return booking, payment


def test_a_captured_card_payment_voided_elsewhere_is_recorded_for_review_and_changes_nothing():
    booking, payment = card_paid_booking()
    result = provider_says(payment, "cancel", now=PAID_AT + timedelta(minutes=5))
    assert result.verdict == Verdict.UNEXPECTED
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert (payment.status, booking.status) == (Payment.Status.PAID, BookingStatus.CONFIRMED)
    assert ledger.balance(ledger.escrow_account(booking.pk)) == booking.total
    assert not booking.customer.notifications.filter(event="payment_failed").exists()


@pytest.mark.parametrize("decision", ["deny", "cancel"])
def test_a_card_payment_held_for_review_and_then_refused_fails(decision):
    booking = accepted()
    payment = services.payment_create(booking=booking)
    provider_says(payment, "capture", fraud="challenge")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CHALLENGE
    assert provider_says(payment, decision, fraud="deny").verdict == Verdict.APPLIED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and ledger.unbalanced_journals() == []


def test_an_expired_booking_is_never_confirmed_by_mark_paid_even_with_an_earlier_clock():
    booking = accepted()
    booking_services.bookings_sweep(now=booking.payment_deadline)
    with pytest.raises(TransitionNotAllowed):
        booking_services.booking_mark_paid(booking_id=booking.pk, now=booking.payment_deadline - timedelta(seconds=1))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED


def test_a_settlement_read_before_the_deadline_but_applied_after_the_sweep_goes_through_the_rehold():
    booking = accepted()
    booking_services.bookings_sweep(now=booking.payment_deadline)
    payment = services.payment_create(booking=booking)
    provider_says(payment, "settlement", payment_type="qris", now=booking.payment_deadline - timedelta(seconds=1))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert list(booking.events.order_by("pk").values_list("to_status", flat=True))[-2:] == ["expired", "confirmed"]


def test_a_second_click_while_the_first_checkout_is_being_opened_makes_no_second_attempt():
    booking = accepted_on_the_real_clock()
    Payment.objects.create(booking=booking, order_id=f"{booking.reference}-1", amount=booking.total)  # in progress
    with pytest.raises(PaymentError, match="being prepared"):
        services.payment_checkout(booking_id=booking.pk, actor=booking.customer, finish_url="http://testserver/")
    assert booking.payments.count() == 1


def test_once_paid_the_other_open_checkout_is_closed_at_the_provider(django_capture_on_commit_callbacks):
    booking = accepted_on_the_real_clock()
    gateway = SimulatorGateway()
    first = services.payment_checkout(booking_id=booking.pk, actor=booking.customer, finish_url="http://testserver/")
    services.payment_apply_notification(payload=gateway.act(first.order_id, "pending_va"), raw_body="{}")
    second = services.payment_create(booking=booking)  # e.g. opened from another device after the VA failed
    with django_capture_on_commit_callbacks(execute=True):
        provider_says(second, "settlement", payment_type="qris", now=None)
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.status == Payment.Status.PAID
    assert (first.status, first.provider_status) == (Payment.Status.FAILED, "cancel")
    assert SimulatorTransaction.objects.get(order_id=first.order_id).transaction_status == "cancel"


def test_a_captured_card_payment_is_voided_instead_of_refunded(django_capture_on_commit_callbacks):
    booking, payment = card_paid_booking()
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(days=2))
    refund = Refund.objects.get()
    payment.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert (payment.status, payment.provider_status) == (Payment.Status.REFUNDED, "cancel")
    assert SimulatorTransaction.objects.get(order_id=payment.order_id).transaction_status == "cancel"
    assert SimulatorTransaction.objects.get(order_id=payment.order_id).refund_keys == []  # voided, not refunded
    # Midtrans' own "cancel" notification for it then changes nothing.
    assert provider_says(payment, "cancel").verdict == Verdict.DUPLICATE
    assert ledger.balance(ledger.REFUNDS_PAYABLE) == 0 and ledger.balance(ledger.PROVIDER_CLEARING) == 0


def test_part_of_a_captured_card_payment_waits_for_the_settlement(django_capture_on_commit_callbacks):
    booking, payment = card_paid_booking()
    # (Tests run tasks eagerly: the task's retry with backoff surfaces as Retry here.)
    with pytest.raises(Retry), django_capture_on_commit_callbacks(execute=True):
        booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(hours=5))
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.PENDING and "waits until the card payment settles" in refund.last_error
    # The card payment settles; the sweep sends the refund again, now as a refund.
    provider_says(payment, "settlement", now=PAID_AT + timedelta(days=1))
    services.refund_process(refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert SimulatorTransaction.objects.get(order_id=payment.order_id).refund_keys == [
        {"key": refund.refund_key, "amount": refund.amount}
    ]


def test_staff_who_may_only_view_payouts_get_no_money_actions(client):
    from django.contrib.auth.models import Permission

    from tests.conftest import STAFF_TOTP_SECRET
    from tests.factories import StaffFactory

    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_payout", "view_refund"], content_type__app_label="payments")
    )
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(viewer, STAFF_TOTP_SECRET)
    client.force_login(viewer)
    for model in ("payout", "refund"):
        page = client.get(reverse(f"admin:payments_{model}_changelist"))
        assert page.status_code == 200
        assert page.context["action_form"] is None, model  # Django shows no action menu when none is allowed
