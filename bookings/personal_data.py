"""What bookings holds about a person (issue 15, core/personal_data.py): their bookings, as customer or as
companion, with every event of each; a companion's calendar feed."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import identifiers, iso
from bookings.models import Booking, BookingEvent, CalendarFeed
from companions.models import CompanionProfile
from core import personal_data
from core.redact import redact
from notifications import personal_data as notification_data
from notifications.models import Delivery, Notification


def bookings_of(user: User):
    # The profile's id first: `companion__user_id` joined the profiles and could use neither index, a scan of
    # every booking for each person purged (tests/bench/privacy_purge.py); two indexed columns OR together.
    profile_id = CompanionProfile.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
    if profile_id is None:
        return Booking.objects.filter(customer_id=user.pk)
    return Booking.objects.filter(Q(customer_id=user.pk) | Q(companion_id=profile_id))


def _party(actor_id: int | None, booking: Booking, user_id: int) -> str:
    if actor_id is None:
        return "kompanion"
    if actor_id == user_id:
        return "you"
    if actor_id in (booking.customer_id, booking.companion.user_id):
        return "other_party"
    return "kompanion_staff"


def export_bookings(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    bookings = bookings_of(user).select_related("customer", "companion__user", "activity").order_by("start", "pk")
    events: dict[int, list[BookingEvent]] = defaultdict(list)
    for event in BookingEvent.objects.filter(booking__in=bookings_of(user)).order_by("created_at", "id").iterator():
        events[event.booking_id].append(event)
    rows = []
    for booking in bookings.iterator(chunk_size=500):
        as_customer = booking.customer_id == user.pk
        other = booking.companion.user if as_customer else booking.customer
        rows.append(
            {
                "reference": booking.reference,
                "role": "customer" if as_customer else "companion",
                "other_party": other.get_short_name(),
                "activity": booking.activity.slug,
                "start": iso(booking.start),
                "end": iso(booking.end),
                "meeting_place": booking.meeting_place,
                "note": booking.note,
                "status": booking.status,
                "hourly_rate": booking.hourly_rate,
                "hours": booking.hours,
                "subtotal": booking.subtotal,
                "service_fee": booking.service_fee,
                "discount": booking.discount,
                "total": booking.total,
                **({} if as_customer else {"commission": booking.commission, "earnings": booking.companion_earnings}),
                "refund_amount": booking.refund_amount,
                "requested_at": iso(booking.created_at),
                "accepted_at": iso(booking.accepted_at),
                "paid_at": iso(booking.paid_at),
                "closed_at": iso(booking.closed_at),
                "cancelled_by": booking.cancelled_by,
                "reason": booking.reason,
                "events": [
                    {
                        "time": iso(event.created_at),
                        "from": event.from_status,
                        "to": event.to_status,
                        "by": _party(event.actor_id, booking, user.pk),
                        "reason": event.reason,
                    }
                    for event in events.pop(booking.pk, [])
                ],
            }
        )
    return rows


def purge_bookings(user: User, ctx: personal_data.PurgeContext) -> None:
    needles = identifiers(user)
    # The note was written by the customer to the companion: it goes. The meeting place stays (a public
    # place, so the other party's history still reads sensibly), without the person's names or number.
    Booking.objects.filter(customer_id=user.pk).exclude(note="").update(note="")
    for booking in bookings_of(user).only("pk", "meeting_place", "reason").iterator():
        place, reason = (
            redact(booking.meeting_place, needles, ctx.pseudonym),
            redact(booking.reason, needles, ctx.pseudonym),
        )
        if (place, reason) != (booking.meeting_place, booking.reason):
            Booking.objects.filter(pk=booking.pk).update(meeting_place=place, reason=reason)
    for event in BookingEvent.objects.filter(booking__in=bookings_of(user)).exclude(reason="").only("pk", "reason"):
        reason = redact(event.reason, needles, ctx.pseudonym)
        if reason != event.reason:
            BookingEvent.objects.filter(pk=event.pk).update(reason=reason)
    CalendarFeed.objects.filter(profile__user_id=user.pk).delete()
    # Notifications to the other party about these bookings name the person ("Budi asks for ...").
    # Looked up by the other parties (an indexed column), then by reference: a filter on the JSON alone read
    # every notification for each person purged (tests/bench/privacy_purge.py).
    parties = list(bookings_of(user).values_list("reference", "customer_id", "companion__user_id"))
    others = sorted({party for _ref, customer, companion in parties for party in (customer, companion)} - {user.pk})
    references = [reference for reference, _customer, _companion in parties]
    for start in range(0, len(references), 500):
        chunk = references[start : start + 500]
        notification_data.redact_about(
            Notification.objects.filter(recipient_id__in=others, context__reference__in=chunk),
            Delivery.objects.filter(recipient_id__in=others, notification__context__reference__in=chunk),
            needles,
            ctx.pseudonym,
        )


def register() -> None:
    personal_data.register(
        "bookings",
        models=("bookings.Booking", "bookings.BookingEvent", "bookings.CalendarFeed"),
        export=export_bookings,
        purge=purge_bookings,
        kept=_(
            "Bookings and their history stay for 10 years, as the tax law requires us to keep our books "
            "(UU KUP article 28(11)), without your name or your notes: the other person sees “former user”."
        ),
    )
