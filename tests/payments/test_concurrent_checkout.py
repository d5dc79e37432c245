"""Two checkouts of one booking at the same moment, on PostgreSQL (two threads, two connections, real
transactions): attempt numbers 1 and 2, or one open attempt reused; never the same order id twice (an
IntegrityError, a 500).

Defect 14: `Payment.objects.select_for_update().filter(booking=...).count()` locked nothing (Django drops
FOR UPDATE from an aggregate), so two attempts could both count 0 and both take "<reference>-1". What
serialises them is the booking's row lock (bookings/locks.py), taken before counting. As in
tests/bookings/test_no_double_booking.py, the race is shown happening with the lock switched off
(settings.BOOKING_LOCKS, a test-only switch): a barrier after the count makes both threads count before
either inserts, which is exactly what the old code allowed."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking
from payments import services
from payments.models import Payment
from payments.services import checkout
from tests.conftest import requires_postgresql
from tests.payments.helpers import accepted_on_the_real_clock

pytestmark = [
    requires_postgresql,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]

JOIN_SECONDS = 30
# Below the 3-second lock timeout: with the lock on, the first thread stops waiting for the second (which
# is blocked on the booking's lock) and commits, well before the second would give up.
BARRIER_SECONDS = 1


@pytest.fixture(autouse=True)
def lock_timeout_above_the_barrier(settings):
    """The 3 s these tests wait for a lock: the production default (300 ms) is shorter than the barrier."""
    settings.LOCK_TIMEOUT_MS = 3000


def race(monkeypatch, work, *, threads=2) -> list:
    """Runs `work()` in `threads` threads at once, each on its own connection; a barrier right after the
    attempt count makes every thread that counts wait for the others. Returns each thread's outcome:
    ("ok", value) or ("error", exception)."""
    outcomes: list = [None] * threads
    start_line = threading.Barrier(threads)
    after_count = threading.Barrier(threads)
    real_next_attempt = checkout._next_attempt

    def counting(booking_id):
        attempt = real_next_attempt(booking_id)
        try:
            after_count.wait(timeout=BARRIER_SECONDS)
        except threading.BrokenBarrierError:
            pass  # the other thread is blocked on the booking's lock (the lock is doing its work)
        return attempt

    monkeypatch.setattr(checkout, "_next_attempt", counting)

    def run(index):
        try:
            start_line.wait(timeout=10)
            outcomes[index] = ("ok", work())
        except BaseException as error:  # noqa: BLE001 - anything raised is what this test looks at
            outcomes[index] = ("error", error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=JOIN_SECONDS)
    assert not any(worker.is_alive() for worker in workers), "a checkout thread hung"
    return outcomes


def create_attempt(booking_id):
    def work():
        return services.payment_create(booking=Booking.objects.get(pk=booking_id)).order_id

    return work


def test_the_old_count_took_no_lock():
    """Why the defect existed: the SQL of `select_for_update().count()` has no FOR UPDATE."""
    booking = accepted_on_the_real_clock()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        Payment.objects.select_for_update().filter(booking=booking).count()
    (query,) = queries.captured_queries
    assert "COUNT(" in query["sql"] and "FOR UPDATE" not in query["sql"]


def test_two_attempts_at_once_get_numbers_1_and_2(monkeypatch):
    booking = accepted_on_the_real_clock()

    outcomes = race(monkeypatch, create_attempt(booking.pk))

    assert sorted(outcomes) == [("ok", f"{booking.reference}-1"), ("ok", f"{booking.reference}-2")]
    assert sorted(Payment.objects.values_list("order_id", flat=True)) == [
        f"{booking.reference}-1",
        f"{booking.reference}-2",
    ]


def test_without_the_booking_lock_both_count_the_same_attempt(monkeypatch, settings):
    """The old behaviour (a count that locks nothing): both threads count 0, both take "-1", and the
    unique order id refuses the second with an IntegrityError (a 500 in a view)."""
    settings.BOOKING_LOCKS = False
    booking = accepted_on_the_real_clock()

    outcomes = race(monkeypatch, create_attempt(booking.pk))

    assert [value for kind, value in outcomes if kind == "ok"] == [f"{booking.reference}-1"]
    (error,) = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(error, IntegrityError) and "order_id" in str(error)
    assert list(Payment.objects.values_list("order_id", flat=True)) == [f"{booking.reference}-1"]


def click_pay(booking):
    def work():
        # A 500 is answered as a response: the test client's exception hook is process-wide (signals), so
        # with re-raising on, one thread's server error would surface in the other thread too.
        client = Client(raise_request_exception=False)
        client.force_login(booking.customer)
        response = client.post(f"/bookings/{booking.reference}/pay/")
        return response.status_code, response.headers.get("Location", "")

    return work


def test_two_clicks_on_pay_at_once_make_one_checkout_and_no_error(monkeypatch):
    booking = accepted_on_the_real_clock()

    outcomes = race(monkeypatch, click_pay(booking))

    assert [kind for kind, _value in outcomes] == ["ok", "ok"]
    (payment,) = Payment.objects.all()
    assert payment.order_id == f"{booking.reference}-1" and payment.redirect_url
    locations = sorted(location for _status, location in (value for _kind, value in outcomes))
    # The first click lands on the checkout; the second on the same checkout (reused) or back on the
    # booking page with "your payment page is being prepared" (it clicked while the first was opening).
    assert all(status == 302 for status, _location in (value for _kind, value in outcomes))
    assert payment.redirect_url in locations
    assert set(locations) <= {payment.redirect_url, f"/bookings/{booking.reference}/"}


def test_without_the_booking_lock_two_clicks_make_a_server_error(monkeypatch, settings):
    """The same two clicks with the lock off: both count 0 and the second insert fails on the unique order
    id. The view does not turn an IntegrityError into a page: it is a 500, which is what the lock prevents."""
    settings.BOOKING_LOCKS = False
    booking = accepted_on_the_real_clock()

    outcomes = race(monkeypatch, click_pay(booking))

    assert [kind for kind, _value in outcomes] == ["ok", "ok"]
    assert sorted(status for status, _location in (value for _kind, value in outcomes)) == [302, 500]
    assert Payment.objects.count() == 1
