"""The booking lock order, in one place: customer, then companion, then the booking.

Every path that changes a booking together with its parties (a request, a late payment re-holding a slot,
a settlement) takes the locks through here, so two paths can never wait on each other in opposite orders.
Built on core/locks.py: inside a transaction only, with the short lock timeout; a wait past it raises
BookingBusy ("many people are booking right now"), never a 500.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.models import User
from bookings.errors import BookingBusy
from bookings.models import Booking
from companions.models import CompanionProfile
from core import locks


def _busy() -> BookingBusy:
    return BookingBusy(_("Many people are booking right now. Please try again in a moment."))


def lock_parties(*, customer_id: int, companion_id: int) -> CompanionProfile:
    """Locks the customer's row, then the companion's profile; returns the locked profile (with its user
    and city). Call inside transaction.atomic()."""
    try:
        locks.lock(User.objects.filter(pk=customer_id))
        locks.lock(CompanionProfile.objects.filter(pk=companion_id))
    except locks.LockBusy as error:
        raise _busy() from error
    return CompanionProfile.objects.select_related("user", "city").get(pk=companion_id)


def lock_companion(*, companion_id: int) -> None:
    """Locks only the companion's profile (a path that touches no customer and no booking, e.g. the
    calendar feed). Call inside transaction.atomic()."""
    try:
        locks.lock(CompanionProfile.objects.filter(pk=companion_id))
    except locks.LockBusy as error:
        raise _busy() from error


def lock_booking_parties(*, booking_id: int) -> None:
    """Locks the booking's customer and companion (in the one order), for callers about to change the
    booking from outside (a payment settling). Call inside transaction.atomic()."""
    parties = Booking.objects.filter(pk=booking_id).values_list("customer_id", "companion_id").first()
    if parties is not None:
        lock_parties(customer_id=parties[0], companion_id=parties[1])


def lock_booking(*, booking_id: int) -> Booking:
    """Locks the booking row itself (after any party locks the caller holds) and returns it with its
    companion, the companion's user and the customer. Call inside transaction.atomic()."""
    try:
        rows = locks.lock(
            Booking.objects.filter(pk=booking_id).select_related("companion", "companion__user", "customer")
        )
    except locks.LockBusy as error:
        raise _busy() from error
    if not rows:
        raise Booking.DoesNotExist(booking_id)
    return rows[0]
