"""Who may read and write a booking's conversation, and when: the one place views, templates and services
ask. Staff read conversations only through the admin (each read logged), never through these pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from accounts import blocks
from bookings.models import BookingStatus
from bookings.rules import Role, role_of
from chat.errors import ChatError

WRITABLE_AFTER_END = timedelta(days=14)
SEND_LIMIT_PER_MINUTE = 30
UNREAD_NOTICE_AFTER = timedelta(minutes=10)
UNREAD_NOTICE_EVERY = timedelta(minutes=30)

# Bookings that ended without a meeting close when they close; the others when the meeting ends.
_ENDED_WITHOUT_MEETING = {BookingStatus.DECLINED, BookingStatus.WITHDRAWN, BookingStatus.EXPIRED}


def party_of(booking, user) -> str | None:
    """ "customer" or "companion" for the booking's two parties, else None (staff included)."""
    role = role_of(booking, user)
    return role if role in (Role.CUSTOMER, Role.COMPANION) else None


def other_party_id(booking, user) -> int:
    return booking.companion.user_id if booking.customer_id == user.pk else booking.customer_id


def read_only_from(booking) -> datetime | None:
    """When the conversation becomes read-only: 14 days after the booking ended (its meeting's end, or its
    closing for a request that never became a meeting); None while it has not ended."""
    if booking.status in _ENDED_WITHOUT_MEETING or (
        booking.status == BookingStatus.CANCELLED and booking.closed_at is not None
    ):
        ended = booking.closed_at
    elif booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.DISPUTED,
                            BookingStatus.RESOLVED):  # fmt: skip
        ended = booking.end
    else:
        return None
    return None if ended is None else ended + WRITABLE_AFTER_END


def is_read_only(booking, now: datetime) -> bool:
    until = read_only_from(booking)
    return until is not None and now >= until


def masks_contacts(booking) -> bool:
    """Contact details in a message are hidden from the recipient while the booking is not paid."""
    return booking.paid_at is None


def check_may_send(booking, user, now: datetime) -> None:
    """Raises ChatError with the reason shown to the sender."""
    if party_of(booking, user) is None:
        raise ChatError(_("Only the customer and the companion of this booking can write here."))
    if is_read_only(booking, now):
        raise ChatError(_("This conversation is closed: it ended 14 days after the booking. You can still read it."))
    if blocks.between(booking.customer_id, booking.companion.user_id):
        raise ChatError(_("You cannot send messages here: one of you blocked the other."))


def may_send(booking, user, now: datetime) -> bool:
    try:
        check_may_send(booking, user, now)
    except ChatError:
        return False
    return True
