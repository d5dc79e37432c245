"""The lock helpers (bookings/locks.py on core/locks.py): only inside a transaction, and a row held by
someone else answers BookingBusy after the short lock timeout, never a long wait or a 500."""

import threading
import time

import pytest
from django.db import connections, transaction
from django.db.transaction import TransactionManagementError

from bookings import locks, services
from bookings.errors import BookingBusy
from bookings.models import Booking, BookingStatus
from tests.bookings.helpers import NOW, make_companion, new_customer, request
from tests.conftest import requires_postgresql


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "take",
    [
        lambda booking: locks.lock_booking(booking_id=booking.pk),
        lambda booking: locks.lock_parties(customer_id=booking.customer_id, companion_id=booking.companion_id),
        lambda booking: locks.lock_booking_parties(booking_id=booking.pk),
        lambda booking: locks.lock_companion(companion_id=booking.companion_id),
    ],
    ids=["booking", "parties", "booking parties", "companion"],
)
def test_the_lock_helpers_refuse_to_run_outside_a_transaction(reference_data, take):
    booking = request(new_customer(), make_companion())
    with pytest.raises(TransactionManagementError):
        take(booking)
    with transaction.atomic():  # inside one they work
        take(booking)


@requires_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_held_booking_lock_answers_busy_quickly_and_changes_nothing(reference_data, settings):
    settings.LOCK_TIMEOUT_MS = 200
    profile = make_companion()
    booking = request(new_customer(), profile)
    holding, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                locks.lock_booking(booking_id=booking.pk)
                holding.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row, daemon=True)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        started = time.monotonic()
        with pytest.raises(BookingBusy):
            services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
        assert time.monotonic() - started < 2  # the 200 ms timeout, not a long wait
    finally:
        release.set()
        holder.join(timeout=10)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.REQUESTED
    # Once released, the same call goes through.
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.AWAITING_PAYMENT
