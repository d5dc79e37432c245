"""Reminders and nudges, found by a periodic scan of the database (never long countdowns in Redis,
which redelivers them) and recorded once each: the notification's once-only key is the booking, the
kind and the recipient, so a scan that runs twice, or late, never sends twice.

- reminder_24h: confirmed, starting within 24 h but more than 12 h away (booked later: only the 2 h one)
- reminder_2h: confirmed, starting within 2 h
- nudge_answer: a request whose answer deadline is within 2 h (to the companion)
- nudge_payment: an accepted booking whose payment deadline is within 20 minutes (to the customer)"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bookings import locks
from bookings.errors import BookingBusy
from bookings.models import Booking, BookingStatus
from notifications.services import notification_record

REMINDER_24H = timedelta(hours=24)
REMINDER_2H = timedelta(hours=2)
# A "tomorrow" reminder only for bookings still more than this far away when the scan meets them.
SAME_DAY = timedelta(hours=12)
ANSWER_NUDGE = timedelta(hours=2)
PAYMENT_NUDGE = timedelta(minutes=20)


def _once(booking: Booking, kind: str, recipient) -> bool:
    context = {"reference": booking.reference, "start": booking.start.isoformat()}
    key = f"{kind}:{booking.pk}:{recipient.pk}"
    with transaction.atomic():
        # Still in the state the scan saw (a cancellation may have committed since): checked under the
        # booking's lock, which the cancellation also takes. Busy: the next scan tries again.
        try:
            current = locks.lock_booking(booking_id=booking.pk).status
        except BookingBusy:
            return False
        if current != booking.status:
            return False
        return notification_record(recipient=recipient, event=kind, context=context, dedupe_key=key) is not None


def reminders_send(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    sent = {"reminder_24h": 0, "reminder_2h": 0, "nudge_answer": 0, "nudge_payment": 0}
    confirmed = Booking.objects.filter(status=BookingStatus.CONFIRMED, start__gt=now).select_related(
        "customer", "companion__user"
    )
    for booking in confirmed.filter(start__lte=now + REMINDER_24H):
        ahead = booking.start - now
        if ahead <= REMINDER_2H:
            kind = "reminder_2h"
        elif ahead > SAME_DAY:
            kind = "reminder_24h"  # "your booking is tomorrow"
        else:
            continue  # booked or paid only hours ahead: the 2 h reminder is the one that makes sense

        for person in (booking.customer, booking.companion.user):
            sent[kind] += _once(booking, kind, person)
    requests = Booking.objects.filter(
        status=BookingStatus.REQUESTED, response_deadline__gt=now, response_deadline__lte=now + ANSWER_NUDGE
    ).select_related("companion__user")
    for booking in requests:
        sent["nudge_answer"] += _once(booking, "nudge_answer", booking.companion.user)
    unpaid = Booking.objects.filter(
        status=BookingStatus.AWAITING_PAYMENT, payment_deadline__gt=now, payment_deadline__lte=now + PAYMENT_NUDGE
    ).select_related("customer")
    for booking in unpaid:
        sent["nudge_payment"] += _once(booking, "nudge_payment", booking.customer)
    return sent
