"""Where the money goes: escrow on payment, release at completion, the cancellation and dispute splits,
late payments (re-held or refunded), refunds by API and by bank transfer. Balances are always read
from the ledger."""

from datetime import timedelta

import pytest

from bookings import policy
from bookings import services as booking_services
from bookings.models import BookingStatus
from payments import ledger, services
from payments.demo import demo_pay
from payments.gateways.simulator import notification_for
from payments.models import Journal, Payment, Refund, SimulatorTransaction
from payments.selectors import companion_balances
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.payments.helpers import PAID_AT, accepted, paid

pytestmark = pytest.mark.django_db


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Refunds are sent after the commit of the change that causes them: `with commits():` runs
    those callbacks (as a real commit would) when the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def balances(booking):
    return {
        "escrow": ledger.balance(ledger.escrow_account(booking.pk)),
        "payable": ledger.balance(ledger.companion_payable_account(booking.companion_id)),
        "revenue": ledger.balance(ledger.PLATFORM_REVENUE),
        "refunds_payable": ledger.balance(ledger.REFUNDS_PAYABLE),
        "clearing": ledger.balance(ledger.PROVIDER_CLEARING),
    }


def test_payment_puts_the_total_in_escrow_and_confirms_with_an_invoice():
    booking, payment = paid()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == Payment.Status.PAID
    assert payment.invoice_number == f"INV/20261124/{booking.reference}"
    assert balances(booking) == {
        "escrow": 330_000,
        "payable": 0,
        "revenue": 0,
        "refunds_payable": 0,
        "clearing": 330_000,
    }


def test_completion_releases_escrow_to_the_companion_and_the_platform():
    booking, _payment = paid()
    booking_services.bookings_sweep(now=booking.complete_after)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    # 2 h × Rp 150.000 = 300.000; fee 30.000; commission 20% = 60.000; companion 240.000.
    assert balances(booking) == {
        "escrow": 0,
        "payable": 240_000,
        "revenue": 90_000,
        "refunds_payable": 0,
        "clearing": 330_000,
    }
    assert companion_balances(booking.companion) == {
        "in_escrow": 0,
        "owed": 240_000,
        "reserved": 0,
        "available": 240_000,
        "paid_out": 0,
    }
    # A second sweep changes nothing.
    journals = Journal.objects.count()
    booking_services.bookings_sweep(now=booking.complete_after + timedelta(hours=1))
    assert Journal.objects.count() == journals
    assert ledger.unbalanced_journals() == []


def test_a_paid_booking_counts_in_escrow_for_the_companion_until_it_completes():
    booking, _payment = paid()
    assert companion_balances(booking.companion)["in_escrow"] == 240_000
    assert companion_balances(booking.companion)["available"] == 0


def test_customer_cancelling_early_gets_everything_back_through_the_gateway(commits):
    booking, payment = paid()
    with commits():
        booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(days=2))
    refund = Refund.objects.get()
    assert (refund.amount, refund.method, refund.status) == (330_000, Refund.Method.GATEWAY, Refund.Status.SUCCEEDED)
    assert refund.refund_key == f"{payment.order_id}-cancelled"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert balances(booking) == {"escrow": 0, "payable": 0, "revenue": 0, "refunds_payable": 0, "clearing": 0}


def test_customer_cancelling_late_splits_by_the_policy(commits):
    booking, _payment = paid()
    cancelled_at = START - timedelta(hours=5)
    expected = policy.settle_cancellation(
        total=booking.total,
        subtotal=booking.subtotal,
        service_fee=booking.service_fee,
        commission_basis_points=booking.commission_basis_points,
        start=booking.start,
        cancelled_at=cancelled_at,
        cancelled_by=policy.CancelledBy.CUSTOMER,
    )
    with commits():
        booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=cancelled_at)
    assert expected.rule == "partial"
    after = balances(booking)
    assert after["escrow"] == 0
    assert after["payable"] == expected.companion_earnings == 120_000
    assert after["revenue"] == expected.platform_revenue
    assert Refund.objects.get().amount == expected.refund == 180_000
    assert after["clearing"] == 330_000 - 180_000  # the refund left through the gateway


def test_cancelling_under_two_hours_refunds_nothing_and_pays_the_companion():
    booking, _payment = paid()
    booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(hours=1))
    assert not Refund.objects.exists()
    assert balances(booking)["payable"] == 240_000 and balances(booking)["revenue"] == 90_000


def test_a_resolved_dispute_refunds_part_and_pays_the_companion_the_rest(staff):
    booking, _payment = paid()
    booking_services.booking_dispute(
        booking_id=booking.pk, actor=booking.customer, reason="Companion left after 30 minutes.", now=START
    )
    booking_services.booking_resolve(
        booking_id=booking.pk, actor=staff, decision="partial_refund", refund=110_000, now=START + timedelta(hours=5)
    )
    booking.refresh_from_db()
    assert Refund.objects.get().amount == 110_000
    after = balances(booking)
    assert after["escrow"] == 0 and after["payable"] == booking.settled_companion_earnings == 160_000
    assert after["revenue"] == 330_000 - 110_000 - 160_000
    assert ledger.unbalanced_journals() == []


def test_an_unpaid_cancellation_posts_nothing():
    booking = accepted()
    booking_services.booking_cancel(
        booking_id=booking.pk, actor=booking.companion.user, reason="Sakit demam", now=NOW + timedelta(minutes=5)
    )
    assert not Journal.objects.exists() and not Refund.objects.exists()


# --- Late and duplicate payments ---------------------------------------------------------------------------


def test_a_settlement_after_expiry_re_holds_the_slot_when_it_is_still_free():
    booking = accepted()
    late = booking.payment_deadline + timedelta(minutes=20)
    booking_services.bookings_sweep(now=late)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    payment = demo_pay_late(booking, late)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_at == late
    assert payment.status == Payment.Status.PAID and not payment.needs_refund and payment.invoice_number
    assert balances(booking)["escrow"] == booking.total
    assert not Refund.objects.exists()
    assert list(booking.events.values_list("to_status", flat=True))[-2:] == ["expired", "confirmed"]


def test_a_settlement_after_expiry_is_refunded_when_someone_else_took_the_slot(commits):
    booking = accepted()
    late = booking.payment_deadline + timedelta(minutes=20)
    booking_services.bookings_sweep(now=late)
    rival = request(new_customer(), booking.companion, booking.start, 2, now=late)
    with commits():
        payment = demo_pay_late(booking, late)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    assert rival.status == BookingStatus.REQUESTED
    assert payment.status == Payment.Status.PAID and payment.needs_refund and payment.invoice_number is None
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.status) == (booking.total, "unplaced", Refund.Status.SUCCEEDED)
    assert balances(booking) == {"escrow": 0, "payable": 0, "revenue": 0, "refunds_payable": 0, "clearing": 0}


def test_a_settlement_after_expiry_is_refunded_when_the_start_has_passed():
    booking = accepted()
    late = booking.start + timedelta(minutes=1)
    payment = demo_pay_late(booking, late)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED and payment.needs_refund
    assert Refund.objects.get().amount == booking.total


def test_a_second_paid_attempt_is_refunded_and_the_first_keeps_the_booking(commits):
    booking, first = paid()
    second = services.payment_create(booking=booking)
    body = settlement_for(second)
    with commits():
        services.payment_apply_notification(payload=body, raw_body="{}", now=PAID_AT + timedelta(minutes=1))
    second.refresh_from_db()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert second.needs_refund and second.status == Payment.Status.REFUNDED
    assert Refund.objects.get().payment == second
    assert balances(booking)["escrow"] == booking.total  # only the first payment stays
    assert ledger.unbalanced_journals() == []


# --- Manual refunds (bank transfer) ---------------------------------------------------------------------------


def test_a_virtual_account_payment_is_refunded_by_bank_transfer(staff):
    booking, payment = paid(method="pay_va")
    booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(days=2))
    refund = Refund.objects.get()
    assert (refund.method, refund.status) == (Refund.Method.MANUAL, Refund.Status.NEEDS_DETAILS)
    assert balances(booking)["refunds_payable"] == 330_000  # owed to the customer until sent
    with pytest.raises(services.PaymentError):
        services.refund_mark_manual_done(refund_id=refund.pk, actor=staff, reference="TRF-123456")
    with pytest.raises(services.PaymentError):  # somebody else's refund
        services.refund_submit_bank_details(
            refund_id=refund.pk, actor=new_customer(), bank="bca", account_number="1234567890", holder_name="X Y Z"
        )
    services.refund_submit_bank_details(
        refund_id=refund.pk, actor=booking.customer, bank="bca", account_number="1234567890", holder_name="Budi Santoso"
    )
    refund.refresh_from_db()
    assert refund.status == Refund.Status.MANUAL_QUEUED and refund.masked_account_number == "••••7890"
    with pytest.raises(services.PaymentError):
        services.refund_mark_manual_done(refund_id=refund.pk, actor=booking.customer, reference="TRF-123456")
    services.refund_mark_manual_done(refund_id=refund.pk, actor=staff, reference="TRF-123456")
    refund.refresh_from_db()
    assert (refund.status, refund.transfer_reference, refund.completed_by) == (
        Refund.Status.MANUAL_DONE,
        "TRF-123456",
        staff,
    )
    assert balances(booking)["refunds_payable"] == 0
    assert ledger.balance(ledger.BANK) == -330_000  # sent from our bank account
    assert ledger.unbalanced_journals() == []


def test_the_account_number_is_encrypted_at_rest():
    from django.db import connection

    booking, _payment = paid(method="pay_va")
    booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(days=2))
    refund = Refund.objects.get()
    services.refund_submit_bank_details(
        refund_id=refund.pk, actor=booking.customer, bank="bni", account_number="9876543210", holder_name="Budi"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_number FROM payments_refund WHERE id = %s", [refund.pk])
        stored = cursor.fetchone()[0]
    assert "9876543210" not in stored


# --- helpers ---------------------------------------------------------------------------------------------------


def settlement_for(payment):
    """What the simulator (playing Midtrans) says once the customer paid this attempt by QRIS."""
    record, _created = SimulatorTransaction.objects.update_or_create(
        order_id=payment.order_id,
        defaults={
            "gross_amount": payment.amount,
            "transaction_status": "settlement",
            "payment_type": "qris",
            "expires_at": payment.expires_at,
        },
    )
    return notification_for(record)


def demo_pay_late(booking, when):
    """The customer opened the checkout in time; the money settled at `when` (after the deadline)."""
    payment = services.payment_create(booking=booking)
    services.payment_apply_notification(payload=settlement_for(payment), raw_body="{}", now=when)
    payment.refresh_from_db()
    return payment


__all__ = ["demo_pay", "make_companion"]
