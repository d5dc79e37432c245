"""Midtrans at the HTTP boundary: our services, the real `midtransclient` and `requests`, and a fake
Midtrans server on 127.0.0.1 (tests/payments/fake_midtrans.py). Nothing of ours is mocked; the fake
plays Midtrans (and the customer paying on its page) and fails on cue."""

import re
from datetime import datetime, timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import BookingStatus
from payments import ledger, services
from payments.errors import PaymentError
from payments.gateways import CheckoutRequest, GatewayError, TransactionNotFound, get_gateway
from payments.models import Payment, PaymentNotification, Refund
from payments.tasks import MAX_REFUND_RETRIES
from tests.payments.fake_midtrans import FakeMidtrans, Fault
from tests.payments.helpers import accepted_on_the_real_clock

pytestmark = pytest.mark.django_db

SERVER_KEY = "SB-Mid-server-fake-0123456789"
FINISH_URL = "https://kompanion.test/bookings/finish/"
READ_TIMEOUT = 0.5
SLOW = 3.0  # seconds a scripted slow answer takes: well past READ_TIMEOUT
SNAP = "/snap/v1/transactions"


@pytest.fixture
def fake(settings):
    """The fake Midtrans, and the settings that send our gateway to it."""
    server = FakeMidtrans(server_key=SERVER_KEY).start()
    settings.PAYMENT_GATEWAY = "midtrans"
    settings.MIDTRANS_SERVER_KEY = SERVER_KEY
    settings.MIDTRANS_IS_PRODUCTION = False
    settings.MIDTRANS_SNAP_BASE_URL = server.snap_base_url
    settings.MIDTRANS_API_BASE_URL = server.api_base_url
    settings.MIDTRANS_CONNECT_TIMEOUT = 1.0
    settings.MIDTRANS_READ_TIMEOUT = READ_TIMEOUT
    yield server
    server.stop()


def awaiting_payment():
    """A booking accepted by the companion (real clock), starting in two days or more: payable now,
    and cancellable by the customer with the full refund."""
    booking = accepted_on_the_real_clock(days_ahead=2)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    return booking


def checkout(booking) -> Payment:
    return services.payment_checkout(booking_id=booking.pk, actor=booking.customer, finish_url=FINISH_URL)


def reconcile_later(payment: Payment) -> dict:
    """The reconciliation sweep as it runs a few minutes after the attempt began."""
    return services.payments_reconcile(now=payment.created_at + timedelta(minutes=6))


def paid(fake, payment_type="qris"):
    """A confirmed booking, paid at the fake with `payment_type` and learnt through reconciliation."""
    booking = awaiting_payment()
    payment = checkout(booking)
    fake.pay(payment.order_id, payment_type=payment_type)
    assert reconcile_later(payment) == {PaymentNotification.Verdict.APPLIED: 1}
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (booking.status, payment.status) == (BookingStatus.CONFIRMED, Payment.Status.PAID)
    return booking, payment


def cancel_as_customer(booking, django_capture_on_commit_callbacks):
    """The customer cancels (two days ahead: all money back); the refund task runs after commit
    (eagerly, as in every test)."""
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.booking_cancel(
            booking_id=booking.pk, actor=booking.customer, now=timezone.now() + timedelta(minutes=10)
        )
    return Refund.objects.get(booking=booking)


# --- Checkout -------------------------------------------------------------------------------------------


def test_checkout_opens_a_snap_page_for_the_booking_total(fake):
    booking = awaiting_payment()
    before = timezone.now()

    payment = checkout(booking)

    [call] = fake.calls(SNAP)
    sent = call.body
    assert call.method == "POST" and call.auth == (SERVER_KEY, "")
    assert payment.order_id == f"{booking.reference}-1"
    assert re.fullmatch(r"[A-Za-z0-9\-_~.]{1,50}", payment.order_id)
    assert sent["transaction_details"] == {"order_id": payment.order_id, "gross_amount": booking.total}
    assert sum(item["price"] * item["quantity"] for item in sent["item_details"]) == booking.total
    assert sent["callbacks"] == {"finish": FINISH_URL}
    assert sent["customer_details"]["email"] == booking.customer.email
    start = datetime.strptime(sent["expiry"]["start_time"], "%Y-%m-%d %H:%M:%S %z")
    assert sent["expiry"]["start_time"].endswith(" +0700") and sent["expiry"]["unit"] == "minute"
    closes = start + timedelta(minutes=sent["expiry"]["duration"])
    assert before - timedelta(seconds=1) <= start <= timezone.now()
    # Whole minutes, rounded down: closes at the deadline or (at most a minute and a second) before.
    assert booking.payment_deadline - timedelta(minutes=1, seconds=2) <= closes <= booking.payment_deadline
    # What the fake made of it, and what we kept.
    transaction = fake.transactions[payment.order_id]
    assert payment.redirect_url == transaction.redirect_url
    assert payment.redirect_url.startswith(fake.url + "/snap/v4/redirection/")
    assert payment.checkout_response == {"token": transaction.token, "redirect_url": transaction.redirect_url}
    assert (payment.status, payment.amount, payment.expires_at) == (
        Payment.Status.CREATED,
        booking.total,
        booking.payment_deadline,
    )


def test_a_second_click_reuses_the_open_attempt(fake):
    booking = awaiting_payment()
    first = checkout(booking)
    again = checkout(booking)
    assert again.pk == first.pk and again.redirect_url == first.redirect_url
    assert len(fake.calls(SNAP)) == 1
    assert Payment.objects.filter(booking=booking).count() == 1


def test_a_snap_error_is_shown_the_attempt_fails_and_the_next_click_is_a_new_attempt(fake):
    booking = awaiting_payment()
    fake.fail_next(SNAP, Fault(status=500))

    with pytest.raises(PaymentError) as error:
        checkout(booking)

    assert "could not be opened" in error.value.message
    failed = Payment.objects.get(booking=booking)
    assert failed.order_id == f"{booking.reference}-1"
    assert (failed.status, failed.redirect_url) == (Payment.Status.FAILED, "")
    assert failed.checkout_response["status_code"] == "500" and failed.checkout_response["error"]
    assert fake.transactions == {}

    retry = checkout(booking)

    assert retry.order_id == f"{booking.reference}-2"
    assert retry.status == Payment.Status.CREATED
    assert retry.redirect_url == fake.transactions[retry.order_id].redirect_url
    assert [call.body["transaction_details"]["order_id"] for call in fake.calls(SNAP)] == [
        failed.order_id,
        retry.order_id,
    ]


def test_a_slow_snap_fails_the_attempt_within_the_timeout(fake):
    booking = awaiting_payment()
    fake.fail_next(SNAP, Fault(delay=SLOW))  # Midtrans made the page, but the answer never came back
    with pytest.raises(PaymentError):
        checkout(booking)
    assert Payment.objects.get(booking=booking).status == Payment.Status.FAILED
    # The next attempt has a new order_id, so the page Midtrans made (and we never saw) is never reused.
    retry = checkout(booking)
    assert retry.order_id.endswith("-2") and retry.redirect_url == fake.transactions[retry.order_id].redirect_url


def test_snap_refusing_the_request_is_a_permanent_error(fake):
    """The fake checks what Midtrans checks: here an order_id already used (406)."""
    booking = awaiting_payment()
    payment = checkout(booking)
    request = CheckoutRequest(
        order_id=payment.order_id,
        amount=booking.total,
        items=services.checkout_items(booking),
        customer_name="Sari",
        customer_email=booking.customer.email,
        customer_phone="",
        expires_at=booking.payment_deadline,
        finish_url=FINISH_URL,
    )
    with pytest.raises(GatewayError) as error:
        get_gateway().create_checkout(request)
    assert (error.value.transient, error.value.http_status) == (False, 406)
    assert "sudah digunakan" in str(error.value)


# --- Status and errors --------------------------------------------------------------------------------------


def test_status_before_a_method_is_chosen_is_not_found(fake):
    payment = checkout(awaiting_payment())
    with pytest.raises(TransactionNotFound):
        get_gateway().status(payment.order_id)
    assert services.payment_check(payment_id=payment.pk) == "not_found"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED and payment.last_checked_at is not None


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500),
        Fault(status=503),
        Fault(status=429, body={"status_code": "429", "status_message": "Too many requests"}),
        Fault(status=502, body="<html><body>502 Bad Gateway</body></html>"),  # a proxy's page
    ],
    ids=["500", "503", "429", "html-502"],
)
def test_provider_trouble_is_a_transient_error(fake, fault):
    payment = checkout(awaiting_payment())
    fake.pay(payment.order_id)
    fake.fail_next(f"/v2/{payment.order_id}/status", fault)
    with pytest.raises(GatewayError) as error:
        get_gateway().status(payment.order_id)
    assert error.value.transient is True
    assert not isinstance(error.value, TransactionNotFound)
    # The fault was for one call only: the next one answers.
    assert get_gateway().status(payment.order_id)["transaction_status"] == "settlement"


def test_a_status_answer_slower_than_the_read_timeout_is_a_transient_error(fake):
    payment = checkout(awaiting_payment())
    fake.pay(payment.order_id)
    fake.fail_next(f"/v2/{payment.order_id}/status", Fault(delay=SLOW))
    with pytest.raises(GatewayError) as error:
        get_gateway().status(payment.order_id)
    assert error.value.transient is True and str(error.value) == "timeout"


def test_an_answer_cut_off_halfway_is_a_transient_error(fake):
    """The connection drops in the middle of the answer (a reset, a proxy restarting)."""
    payment = checkout(awaiting_payment())
    fake.pay(payment.order_id)
    fake.fail_next(f"/v2/{payment.order_id}/status", Fault(cut=True))
    with pytest.raises(GatewayError) as error:
        get_gateway().status(payment.order_id)
    assert error.value.transient is True


def test_a_status_check_that_fails_changes_nothing(fake):
    payment = checkout(awaiting_payment())
    fake.pay(payment.order_id)
    fake.fail_next(f"/v2/{payment.order_id}/status", Fault(status=500))
    assert services.payment_check(payment_id=payment.pk) == "error"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert not PaymentNotification.objects.exists()


def test_a_wrong_server_key_is_a_permanent_error(fake, settings):
    payment = checkout(awaiting_payment())
    fake.pay(payment.order_id)
    settings.MIDTRANS_SERVER_KEY = "SB-Mid-server-not-ours"
    with pytest.raises(GatewayError) as error:
        get_gateway().status(payment.order_id)
    assert (error.value.transient, error.value.http_status) == (False, 401)
    assert fake.requests[-1].auth == ("SB-Mid-server-not-ours", "")


def test_cancel_and_expire_a_pending_transaction(fake):
    first = checkout(awaiting_payment())
    second = checkout(awaiting_payment())
    fake.set_status(first.order_id, "pending", payment_type="bank_transfer")
    fake.set_status(second.order_id, "pending", payment_type="bank_transfer")

    cancelled = get_gateway().cancel(first.order_id)
    expired = get_gateway().expire(second.order_id)  # Midtrans answers "407" here, which is not an error

    assert (cancelled["status_code"], cancelled["transaction_status"]) == ("200", "cancel")
    assert (expired["status_code"], expired["transaction_status"]) == ("407", "expire")
    # A paid transaction cannot be cancelled any more: permanent.
    fake.set_status(first.order_id, "settlement")
    with pytest.raises(GatewayError) as error:
        get_gateway().cancel(first.order_id)
    assert (error.value.transient, error.value.http_status) == (False, 412)


# --- The lost webhook -------------------------------------------------------------------------------------


def test_reconciliation_confirms_a_booking_whose_notification_was_lost(fake):
    booking = awaiting_payment()
    payment = checkout(booking)
    assert reconcile_later(payment) == {"not_found": 1}  # no method chosen yet

    transaction = fake.pay(payment.order_id, payment_type="qris")  # paid; no notification ever arrives
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT

    assert reconcile_later(payment) == {PaymentNotification.Verdict.APPLIED: 1}

    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert (payment.status, payment.provider_status, payment.payment_type) == (
        Payment.Status.PAID,
        "settlement",
        "qris",
    )
    assert payment.provider_transaction_id == transaction.transaction_id
    assert ledger.balance(ledger.escrow_account(booking.pk)) == booking.total
    assert ledger.unbalanced_journals() == []
    recorded = PaymentNotification.objects.get(verdict=PaymentNotification.Verdict.APPLIED)
    assert recorded.source == PaymentNotification.Source.STATUS_API and recorded.payment == payment
    # Paid attempts are not asked about again.
    asked = len(fake.calls(f"/v2/{payment.order_id}/status"))
    assert reconcile_later(payment) == {}
    assert len(fake.calls(f"/v2/{payment.order_id}/status")) == asked == 2


# --- Refunds -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lost_answer", "error"),
    [(Fault(delay=SLOW), "timeout"), (Fault(cut=True), "answer cut off")],
    ids=["timeout", "cut-off"],
)
def test_a_refund_whose_answer_was_lost_is_retried_with_the_same_key_and_made_once(
    fake, django_capture_on_commit_callbacks, lost_answer, error
):
    """Tests run Celery eagerly with task_eager_propagates: the task's `self.retry()` then surfaces as
    celery.exceptions.Retry from `.delay()` (the retry is not run). Its signature is what a worker
    would run after the countdown, so the test runs exactly that."""
    booking, payment = paid(fake)
    # Midtrans makes the refund, but its answer never reaches us (too slow, or cut off).
    fake.fail_next(f"/v2/{payment.order_id}/refund", lost_answer)

    with pytest.raises(Retry) as raised:
        cancel_as_customer(booking, django_capture_on_commit_callbacks)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    refund = Refund.objects.get(booking=booking)
    assert (refund.method, refund.amount) == (Refund.Method.GATEWAY, booking.total)
    assert (refund.status, refund.attempts, refund.last_error) == (Refund.Status.PENDING, 1, error)
    assert 0 <= raised.value.when <= 30  # the first backoff, with full jitter (Celery's retry_jitter)
    assert list(fake.transactions[payment.order_id].refunds) == [refund.refund_key]  # made, though we never heard

    assert raised.value.sig.apply().get() == Refund.Status.SUCCEEDED  # the worker's retry

    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == (Refund.Status.SUCCEEDED, 2, "")
    calls = fake.refund_calls
    assert [call["refund_key"] for call in calls] == [refund.refund_key, refund.refund_key]
    assert [call["amount"] for call in calls] == [booking.total, booking.total]
    transaction = fake.transactions[payment.order_id]
    assert list(transaction.refunds) == [refund.refund_key]  # one refund made, not two
    assert (transaction.refunded, transaction.status) == (booking.total, "refund")
    assert refund.provider_response["refund_key"] == refund.refund_key
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert ledger.balance(ledger.REFUNDS_PAYABLE) == 0
    assert ledger.balance(ledger.escrow_account(booking.pk)) == 0
    assert ledger.unbalanced_journals() == []


def test_a_refund_still_failing_after_the_task_retries_is_sent_again_by_the_sweep(
    fake, django_capture_on_commit_callbacks
):
    """1 call and 6 retries with exponential backoff and full jitter (Celery's autoretry: each wait drawn
    from 0 to 30 s × 2^n; each retry run as a worker would). The last failure ends the task with the
    gateway's error; the refund stays pending and the reconciliation sweep sends it again, same key."""
    booking, payment = paid(fake)
    fake.fail_next(f"/v2/{payment.order_id}/refund", *[Fault(status=503)] * 7)

    with pytest.raises(Retry) as raised:
        cancel_as_customer(booking, django_capture_on_commit_callbacks)
    outcome, delays = raised.value, []
    while isinstance(outcome, Retry):
        delays.append(outcome.when)
        try:
            outcome = outcome.sig.apply().get()
        except (Retry, GatewayError) as again:
            outcome = again

    assert isinstance(outcome, GatewayError) and outcome.transient  # the task gave up: max_retries = 6
    assert len(delays) == MAX_REFUND_RETRIES == 6
    assert [0 <= delay <= 30 * 2**n for n, delay in enumerate(delays)] == [True] * 6
    refund = Refund.objects.get(booking=booking)
    assert (refund.status, refund.attempts) == (Refund.Status.PENDING, 7)
    assert "scripted fault" in refund.last_error
    assert fake.transactions[payment.order_id].refunds == {}
    assert ledger.balance(ledger.REFUNDS_PAYABLE) == booking.total

    with django_capture_on_commit_callbacks(execute=True):
        counts = services.payments_reconcile(now=refund.created_at + timedelta(minutes=6))

    assert counts == {"refund_retried": 1}
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (Refund.Status.SUCCEEDED, 8)
    assert [call["refund_key"] for call in fake.refund_calls] == [refund.refund_key] * 8
    assert list(fake.transactions[payment.order_id].refunds) == [refund.refund_key]
    assert ledger.balance(ledger.REFUNDS_PAYABLE) == 0


def test_a_refused_refund_fails_for_staff_and_their_retry_sends_the_same_key(
    fake, staff, django_capture_on_commit_callbacks
):
    booking, payment = paid(fake)
    fake.fail_next(
        f"/v2/{payment.order_id}/refund",
        Fault(status=412, body={"status_code": "412", "status_message": "Merchant cannot modify the status"}),
    )

    refund = cancel_as_customer(booking, django_capture_on_commit_callbacks)

    assert (refund.status, refund.attempts) == (Refund.Status.FAILED, 1)  # not retried: permanent
    assert refund.last_error == "Merchant cannot modify the status"
    assert len(fake.refund_calls) == 1
    assert ledger.balance(ledger.REFUNDS_PAYABLE) == booking.total
    with pytest.raises(PaymentError):
        services.refund_retry(refund_id=refund.pk, actor=booking.customer)

    with django_capture_on_commit_callbacks(execute=True):
        services.refund_retry(refund_id=refund.pk, actor=staff)

    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == (Refund.Status.SUCCEEDED, 2, "")
    assert [call["refund_key"] for call in fake.refund_calls] == [refund.refund_key] * 2
    assert list(fake.transactions[payment.order_id].refunds) == [refund.refund_key]
    assert ledger.balance(ledger.REFUNDS_PAYABLE) == 0


def test_a_bank_transfer_payment_is_refunded_by_hand_not_through_the_api(fake, django_capture_on_commit_callbacks):
    booking, payment = paid(fake, payment_type="bank_transfer")
    assert payment.payment_type == "bank_transfer"

    refund = cancel_as_customer(booking, django_capture_on_commit_callbacks)

    assert (refund.method, refund.status, refund.amount) == (
        Refund.Method.MANUAL,
        Refund.Status.NEEDS_DETAILS,
        booking.total,
    )
    assert refund.attempts == 0
    assert fake.refund_calls == []
    assert not [call for call in fake.requests if call.path.endswith("/refund")]
    assert ledger.balance(ledger.REFUNDS_PAYABLE) == booking.total  # owed until staff send the transfer
