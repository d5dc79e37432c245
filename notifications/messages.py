"""What each event says, in the recipient's language: the in-app title and text, the email, and the
WhatsApp template's variables. One table, so every channel says the same thing.

Texts are English msgids (translated in locale/); %(name)s placeholders are filled from the booking
(reloaded by reference, so the text is right even when the context is short), the event's context and
the recipient's time zone. The WhatsApp template for an event takes the same values, in the order of
`fields`, followed by the link: e.g. booking_requested → {"1": customer, "2": start, "3": deadline,
"4": link}."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core import formatting


@dataclass(frozen=True)
class Message:
    title: object
    body: object
    fields: tuple[str, ...]
    # "booking", "payment", "earnings", "profile", "level", "chat", "privacy", "invite", "plus", or "" for none
    link: str = "booking"


CATALOGUE: dict[str, Message] = {
    "booking_requested": Message(
        _("New booking request"),
        _("%(customer)s asks for %(start)s. Answer by %(deadline)s."),
        ("customer", "start", "deadline"),
    ),
    "booking_instant": Message(
        _("New instant booking"),
        _("%(customer)s booked %(start)s. It is confirmed once paid."),
        ("customer", "start"),
    ),
    "booking_accepted": Message(
        _("Your request was accepted"),
        _("%(companion)s accepted %(start)s. Pay %(total)s by %(pay_by)s to confirm."),
        ("companion", "start", "total", "pay_by"),
    ),
    "booking_reserved": Message(
        # An instant booking: nobody accepted anything, the time is held for the customer until they pay.
        _("Your booking is reserved"),
        _("%(companion)s is reserved for you on %(start)s. Pay %(total)s by %(pay_by)s to confirm."),
        ("companion", "start", "total", "pay_by"),
    ),
    "booking_confirmed": Message(
        _("Booking confirmed"),
        _("%(reference)s on %(start)s is paid and confirmed."),
        ("reference", "start"),
    ),
    "booking_declined": Message(
        _("Request declined"),
        _("%(companion)s cannot make %(start)s. Nothing was charged."),
        ("companion", "start"),
    ),
    "booking_withdrawn": Message(
        _("Request withdrawn"),
        _("%(customer)s withdrew the request for %(start)s."),
        ("customer", "start"),
    ),
    "booking_expired_unanswered": Message(
        _("Request expired"),
        _("The request for %(start)s was not answered in time, so it closed."),
        ("start",),
    ),
    "booking_expired_unpaid": Message(
        _("Booking expired"),
        _("%(reference)s on %(start)s was not paid in time, so it expired."),
        ("reference", "start"),
    ),
    "booking_cancelled": Message(
        _("Booking cancelled"),
        _("%(reference)s on %(start)s was cancelled."),
        ("reference", "start"),
    ),
    "booking_completed": Message(
        _("Booking completed"),
        _(
            "%(reference)s is complete. How did it go? Review it within 14 days: neither of you sees the "
            "other's review before both are written."
        ),
        ("reference",),
    ),
    "booking_disputed": Message(
        _("A problem was reported"),
        _("A dispute was opened on %(reference)s. Our team will contact you within 1 working day."),
        ("reference",),
    ),
    "booking_resolved": Message(
        _("Dispute resolved"),
        _("Our team resolved the dispute on %(reference)s."),
        ("reference",),
    ),
    "payment_failed": Message(
        _("Payment failed"),
        _("The payment for %(reference)s did not go through. You can try again until %(pay_by)s."),
        ("reference", "pay_by"),
        link="payment",
    ),
    "payment_refunded_unplaced": Message(
        _("Payment returned"),
        _(
            "Your payment for %(reference)s arrived after the time was no longer available, "
            "so %(amount)s goes back to you."
        ),
        ("reference", "amount"),
        link="payment",
    ),
    "refund_done": Message(
        _("Refund sent"),
        _("%(amount)s for %(reference)s is on its way back to you."),
        ("amount", "reference"),
        link="payment",
    ),
    "refund_needs_bank_details": Message(
        _("We need your bank details"),
        _("Tell us where to send the refund of %(amount)s for %(reference)s."),
        ("amount", "reference"),
        link="payment",
    ),
    "payout_paid": Message(
        _("Payout sent"),
        _("%(amount)s is on its way to your bank account."),
        ("amount",),
        link="earnings",
    ),
    "payout_rejected": Message(
        _("Payout rejected"),
        _("Your payout of %(amount)s was rejected: %(reason)s"),
        ("amount", "reason"),
        link="earnings",
    ),
    "verification_approved": Message(
        _("Your ID is verified"),
        _("Your KTP and selfie are verified. Customers now see the verified badge."),
        (),
        link="profile",
    ),
    "verification_rejected": Message(
        _("Your ID could not be verified"),
        _("Your KTP and selfie could not be verified: %(reason)s"),
        ("reason",),
        link="profile",
    ),
    "level_promoted": Message(
        _("You reached a new level"),
        _("Congratulations: you are now %(level)s. Bookings requested from now on pay its lower commission."),
        ("level",),
        link="level",
    ),
    "level_warning": Message(
        _("Your level may change"),
        _(
            "Your figures are below your level's thresholds. If they have not recovered by %(date)s, your level "
            "becomes %(level)s. See what to improve on your level page."
        ),
        ("date", "level"),
        link="level",
    ),
    "level_recovered": Message(
        _("Your level stays"),
        _("Your figures recovered: you stay %(level)s."),
        ("level",),
        link="level",
    ),
    "level_demoted": Message(
        _("Your level changed"),
        _("Your level is now %(level)s. Bookings already made keep their commission."),
        ("level",),
        link="level",
    ),
    "referral_voucher": Message(
        _("You earned a voucher"),
        _("Your friend's first booking is done: %(amount)s off your next booking is waiting for you."),
        ("amount",),
        link="invite",
    ),
    "referral_commission_cut": Message(
        _("Your commission is lower"),
        _("Your friend's first booking is done: bookings requested until %(date)s pay a lower commission."),
        ("date",),
        link="invite",
    ),
    "plus_ending": Message(
        _("Your Kompanion Plus ends soon"),
        _("Your Plus pass ends on %(date)s. Renew it to keep half the service fee and the other perks."),
        ("date",),
        link="plus",
    ),
    "message_new": Message(
        # In-app only, once until read: never the message's text (lock screens, shared phones).
        _("New message"),
        _("%(sender)s sent you a message about %(reference)s."),
        ("sender", "reference"),
        link="chat",
    ),
    "message_unread": Message(
        _("You have an unread message"),
        _("%(sender)s wrote to you about %(reference)s on Kompanion. Open the conversation to read it."),
        ("sender", "reference"),
        link="chat",
    ),
    "reminder_24h": Message(
        _("Your booking is tomorrow"),
        _("Reminder: %(reference)s at %(start)s, %(place)s."),
        ("reference", "start", "place"),
    ),
    "reminder_2h": Message(
        _("Your booking starts soon"),
        _("%(reference)s starts at %(start)s, %(place)s. Have a good time!"),
        ("reference", "start", "place"),
    ),
    "nudge_answer": Message(
        _("A request is waiting for your answer"),
        _("Answer %(customer)s by %(deadline)s, or the request expires."),
        ("customer", "deadline"),
    ),
    "nudge_payment": Message(
        _("Pay to confirm your booking"),
        _("Pay %(total)s for %(reference)s by %(pay_by)s, or it expires."),
        ("total", "reference", "pay_by"),
    ),
    # Safety at meetings (issue 15). Never the check-in code. The welfare question goes to the parties (in-app
    # and WhatsApp where opted in) and links to the booking page, where "I'm fine" is one tap.
    "meeting_welfare_check": Message(
        _("Are you OK?"),
        _(
            'Your meeting %(reference)s should have ended by now. Tap "I\'m fine" on the booking page, or '
            "press SOS there if you need help."
        ),
        ("reference",),
    ),
    # To a trusted contact, who is not a user (notifications.services.whatsapp_send_on_behalf): the link
    # that follows the text is the meeting's share link.
    "contact_shared": Message(
        _("A Kompanion meeting shared with you"),
        _(
            "%(sender)s shared a meeting booked on Kompanion with you as their trusted contact: when and where "
            "it is, and who they meet. The link works until 12 hours after the meeting:"
        ),
        ("sender",),
        link="",
    ),
    "contact_welfare": Message(
        _("Please check on your friend"),
        _(
            "%(sender)s has not told us they are fine after their meeting booked on Kompanion. Please try to "
            "reach them; if you are worried, call 112. Our safety team is looking into it. The meeting:"
        ),
        ("sender",),
        link="",
    ),
    "contact_sos": Message(
        _("SOS from a Kompanion meeting"),
        _(
            "%(sender)s pressed SOS during their meeting booked on Kompanion. Call them now; if you cannot "
            "reach them, call 112. Our safety team is alerted. The meeting:"
        ),
        ("sender",),
        link="",
    ),
    # Reports about a person and staff decisions (safety/reports.py, safety/moderation.py): the reporter hears
    # the outcome in general terms only; the person warned hears no detail of who reported what.
    "report_received": Message(
        _("We received your report"),
        _("Thank you. Our safety team will look into it and tell you when they have."),
        (),
        link="",
    ),
    "report_actioned": Message(
        _("Your report was looked into"),
        _("We looked into your report and took action. Thank you for helping keep Kompanion safe."),
        (),
        link="",
    ),
    "report_closed": Message(
        _("Your report was looked into"),
        _("We looked into your report and closed it. Thank you for telling us."),
        (),
        link="",
    ),
    "moderation_warning": Message(
        _("A warning from Kompanion's safety team"),
        _(
            "We received a report about your conduct. Please follow Kompanion's rules: platonic meetings only, "
            "respectful messages, payment only through Kompanion. Another report may suspend your account."
        ),
        (),
        link="",
    ),
    "booking_stopped_customer": Message(
        _("Booking cancelled by Kompanion"),
        _(
            "%(reference)s on %(start)s was cancelled by Kompanion's safety team. Anything you paid comes "
            "back: %(refund)s."
        ),
        ("reference", "start", "refund"),
    ),
    "booking_stopped_companion": Message(
        _("Booking cancelled by Kompanion"),
        _("%(reference)s on %(start)s was cancelled by Kompanion's safety team. The time is free again."),
        ("reference", "start"),
    ),
    "phone_code": Message(
        _("Your Kompanion code"),
        _("%(code)s is your Kompanion code. It is valid for 10 minutes. Never share it."),
        ("code",),
        link="",
    ),
    # "Export my data" (privacy/export.py): the link goes to the privacy centre, where the signed-in person
    # downloads it; never the download token itself.
    "export_ready": Message(
        _("Your data export is ready"),
        _("The copy of your data you asked for is ready. Download it from your privacy centre within 48 hours."),
        (),
        link="privacy",
    ),
}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    path: str  # for the in-app list
    url: str  # absolute, for email and WhatsApp
    variables: dict[str, str]


def _when(value, zone: str, language: str) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return formatting.format_datetime(value, zone=zone, language=language)


@dataclass(frozen=True)
class BookingFacts:
    """What a message says about the booking it is about. The bookings app supplies them
    (register_booking_lookup, at startup): notifications sits below bookings and never imports it."""

    reference: str
    start: datetime | None
    response_deadline: datetime | None
    payment_deadline: datetime | None
    total: int
    refund_amount: int | None
    meeting_place: str
    companion_name: str
    customer_name: str


BookingLookup = Callable[[set[str]], dict[str, BookingFacts]]
_booking_lookup: list[BookingLookup] = []


def register_booking_lookup(lookup: BookingLookup) -> None:
    """Called once by bookings' AppConfig.ready(): `lookup(references)` answers {reference: BookingFacts}
    in one query. Registering again replaces it (ready() may run twice in tests)."""
    _booking_lookup[:] = [lookup]


def bookings_by_reference(references) -> dict[str, BookingFacts]:
    """The bookings messages talk about, in one query (the in-app list renders many at once)."""
    references = {reference for reference in references if reference}
    if not references:
        return {}
    if not _booking_lookup:
        raise ImproperlyConfigured("No booking lookup registered: the bookings app registers it in ready().")
    return _booking_lookup[0](references)


def _booking_values(booking: BookingFacts, zone: str, language: str) -> dict[str, str]:
    return {
        "reference": booking.reference,
        "start": _when(booking.start, zone, language),
        "deadline": _when(booking.response_deadline, zone, language),
        "pay_by": _when(booking.payment_deadline, zone, language),
        "total": formatting.format_rupiah(booking.total, language=language),
        "refund": formatting.format_rupiah(booking.refund_amount or 0, language=language),
        "place": booking.meeting_place,
        "companion": booking.companion_name,
        "customer": booking.customer_name,
    }


def _path(kind: str, reference: str) -> str:
    if kind == "booking" and reference:
        return reverse("bookings:detail", args=[reference])
    if kind == "payment" and reference:
        return reverse("payments:status", args=[reference])
    if kind == "earnings":
        return reverse("payments:earnings")
    if kind == "profile":
        return reverse("companions:verification")
    if kind == "level":
        return reverse("companions:level")
    if kind == "chat" and reference:
        return reverse("chat:conversation", args=[reference])
    if kind == "privacy":
        return reverse("privacy:centre")
    if kind == "invite":
        return reverse("promotions:invite")
    if kind == "plus":
        return reverse("payments:plus")
    return reverse("notifications:list") if kind else ""


def render(event: str, context: dict, *, language: str, zone: str, bookings: dict | None = None) -> Rendered:
    """`bookings` (from bookings_by_reference) saves the query when many are rendered together."""
    message = CATALOGUE[event]
    values: dict[str, str] = {}
    reference = str(context.get("reference") or "")
    if reference:
        booking = (bookings if bookings is not None else bookings_by_reference([reference])).get(reference)
        values.update(_booking_values(booking, zone, language) if booking else {"reference": reference})
    for name in ("amount", "refund"):
        if isinstance(context.get(name), int):
            values[name] = formatting.format_rupiah(context[name], language=language)
    for name in ("reason", "code", "level", "sender"):
        if context.get(name):
            values[name] = str(context[name])
    if context.get("date"):
        values["date"] = formatting.format_date(date.fromisoformat(context["date"]), language=language)
    for name in message.fields:
        values.setdefault(name, "")
    with translation.override(language):
        title, body = str(message.title), str(message.body) % values
    path = _path(message.link, reference)
    url = f"{settings.SITE_URL.rstrip('/')}{path}" if path else ""
    variables = {str(index): values[name] for index, name in enumerate(message.fields, start=1)}
    if url:
        variables[str(len(variables) + 1)] = url
    return Rendered(title=title, body=body, path=path, url=url, variables=variables)
