"""The clock: a request unanswered by its deadline is declined, an accepted booking unpaid by its deadline
expires, and a confirmed booking completes 24 hours after its end (releasing the escrow).

Pages and services apply a passed deadline themselves (`booking_apply_deadline`), so correctness never
waits for the periodic sweep (`bookings_sweep`), which only tidies up."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from bookings import hooks, locks
from bookings.models import Booking, BookingStatus
from bookings.transitions import change_status, notify

S = BookingStatus

DEADLINE_MOVES = {
    # status: (deadline field, new status, reason, notification)
    S.REQUESTED: ("response_deadline", S.DECLINED, "no answer before the deadline", "booking_expired_unanswered"),
    S.AWAITING_PAYMENT: ("payment_deadline", S.EXPIRED, "not paid before the deadline", "booking_expired_unpaid"),
    S.CONFIRMED: ("complete_after", S.COMPLETED, "ended without a dispute", "booking_completed"),
}


def _is_due(booking: Booking, now: datetime) -> bool:
    return booking.is_overdue(now) or booking.is_completable(now)


def booking_apply_deadline(*, booking_id: int, now: datetime | None = None) -> bool:
    """Applies the deadline that has passed for one booking, if any; True if it changed something.
    Idempotent: a booking that moved on (accepted, paid, disputed) in the meantime is left alone."""
    now = now or timezone.now()
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or not _is_due(booking, now):
        return False  # the common case (a page view): no lock taken
    with transaction.atomic():
        booking = locks.lock_booking(booking_id=booking_id)
        if not _is_due(booking, now):
            return False
        deadline_field, to, reason, event = DEADLINE_MOVES[booking.status]
        change_status(booking, to=to, actor=None, now=now, reason=reason, fields={"closed_at": now})
        if to == S.COMPLETED:  # escrow released: earnings to the companion
            hooks.settled(booking=booking, kind=hooks.Settled.COMPLETED)
        notify(booking, event, [booking.customer, booking.companion.user])
    return True


def expire_overdue(*, now: datetime, **scope) -> None:
    """Moves the overdue holds in `scope` (a companion's or a customer's) out of the way, e.g. before an
    insert the exclusion constraint would otherwise refuse because of them."""
    for booking_id in Booking.objects.filter(**scope).overdue(now).values_list("pk", flat=True):
        booking_apply_deadline(booking_id=booking_id, now=now)


def bookings_sweep(*, now: datetime | None = None) -> int:
    """Declines unanswered requests, expires unpaid bookings, completes ended ones. Idempotent; each
    booking in its own transaction, so one failure does not hold back the rest."""
    now = now or timezone.now()
    changed = 0
    for booking_id in Booking.objects.due(now).values_list("pk", flat=True).iterator():
        changed += booking_apply_deadline(booking_id=booking_id, now=now)
    return changed
