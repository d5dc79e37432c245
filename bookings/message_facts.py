"""What notification messages say about a booking, supplied to notifications at startup (apps.py):
notifications sits below bookings in the layering and never imports it."""

from bookings.models import Booking
from notifications.messages import BookingFacts

_FIELDS = (
    "reference",
    "start",
    "response_deadline",
    "payment_deadline",
    "total",
    "refund_amount",
    "meeting_place",
    "companion__display_name",
    "customer__full_name",
    "customer__email",
    "customer__erased_at",  # get_short_name() reads it ("former user"): deferred, it cost a query per row
    "companion__user__erased_at",  # an erased companion's profile has no display name left: "former user"
)


def booking_facts(references: set[str]) -> dict[str, BookingFacts]:
    rows = Booking.objects.select_related("companion__user", "customer").only(*_FIELDS).filter(reference__in=references)
    return {
        booking.reference: BookingFacts(
            reference=booking.reference,
            start=booking.start,
            response_deadline=booking.response_deadline,
            payment_deadline=booking.payment_deadline,
            total=booking.total,
            refund_amount=booking.refund_amount,
            meeting_place=booking.meeting_place,
            companion_name=booking.companion.user.get_short_name()
            if booking.companion.user.erased_at
            else booking.companion.display_name,
            customer_name=booking.customer.get_short_name(),
        )
        for booking in rows
    }
