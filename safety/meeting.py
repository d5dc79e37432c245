"""Safety at a meeting (issue 15): the check-in code, "met", "done, all good" and "I'm fine".

A confirmed booking has a `Meeting` row, made on first need (`meeting_for`: the booking page, the welfare
sweep, the demo) with a 4-digit code from `secrets`, encrypted at rest. The customer sees the code on their
booking page; at the meeting the companion types it on theirs, which marks the meeting "met". The code is
never put in a notification, a URL or a log line.

The meeting window: from 30 minutes before the start until 3 hours after the end. Inside it the companion
may enter the code and both parties see the SOS button; outside it the code is refused ("not now").

Wrong codes: 5 per booking, counted by one conditional UPDATE (`code_attempts < 5`), so two requests at the
same moment can never both pass the limit; then the code is locked and the companion is told to contact
support (or press SOS); the customer's card says the same.

After "met" either party may end the meeting ("done, all good"), which stops the welfare check
(safety/welfare.py). "I'm fine" answers the welfare question once it was asked.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking, BookingStatus
from bookings.selectors import plausible_reference
from core.errors import UserFacingError
from safety.models import Meeting, SafetyEvent, SafetyEventKind

WINDOW_BEFORE = timedelta(minutes=30)
WINDOW_AFTER = timedelta(hours=3)
MAX_CODE_ATTEMPTS = 5
CODE_DIGITS = 4


class SafetyError(UserFacingError):
    """A safety action that cannot be done (the message is translated and safe to show)."""


CUSTOMER, COMPANION = "customer", "companion"


def role_of(booking: Booking, user) -> str | None:
    if user is None or not user.is_authenticated:
        return None
    if booking.customer_id == user.pk:
        return CUSTOMER
    if booking.companion.user_id == user.pk:
        return COMPANION
    return None


def party_booking(reference: str, user) -> Booking | None:
    """The booking if `user` is one of its two parties (staff act in the admin); None otherwise (404)."""
    if not user.is_authenticated or not plausible_reference(reference):
        return None
    return (
        Booking.objects.select_related("companion__user", "customer")
        .filter(Q(customer=user) | Q(companion__user=user), reference=reference)
        .first()
    )


def window(booking: Booking) -> tuple[datetime, datetime]:
    return booking.start - WINDOW_BEFORE, booking.end + WINDOW_AFTER


def in_window(booking: Booking, now: datetime) -> bool:
    opens, closes = window(booking)
    return booking.status == BookingStatus.CONFIRMED and opens <= now <= closes


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def meeting_for(booking: Booking) -> Meeting | None:
    """The booking's meeting (made on first need, with its code); None unless the booking is confirmed or
    was (a completed, disputed or resolved booking keeps its row)."""
    try:
        return booking.meeting
    except Meeting.DoesNotExist:
        pass
    if booking.status != BookingStatus.CONFIRMED:
        return None
    try:
        with transaction.atomic():
            meeting, _created = Meeting.objects.get_or_create(booking=booking, defaults={"code": new_code()})
    except IntegrityError:  # made by a concurrent request between the get and the create
        meeting = Meeting.objects.get(booking=booking)
    booking.meeting = meeting
    return meeting


def record(booking: Booking, kind: str, *, actor=None, now: datetime) -> SafetyEvent:
    return SafetyEvent.objects.create(booking=booking, actor=actor, kind=kind, created_at=now)


def _locked_message() -> str:
    return _(
        "The check-in code is locked after 5 wrong tries. Contact Kompanion at bantuan@kompanion.id; if you "
        "feel unsafe, press SOS."
    )


def code_locked(meeting: Meeting) -> bool:
    return meeting.code_attempts >= MAX_CODE_ATTEMPTS


def check_in(*, booking: Booking, user, code: str, now: datetime | None = None) -> Meeting:
    """The companion enters the customer's code. Raises SafetyError (wrong code with the tries left,
    locked, outside the window, not the companion). Entering it again once met changes nothing."""
    now = now or timezone.now()
    if role_of(booking, user) != COMPANION:
        raise SafetyError(_("Only the companion enters the check-in code."))
    if not in_window(booking, now):
        opens, _closes = window(booking)
        if booking.status == BookingStatus.CONFIRMED and now < opens:
            raise SafetyError(_("The check-in code can be entered from 30 minutes before the meeting."))
        raise SafetyError(_("The check-in code can no longer be entered for this booking."))
    meeting = meeting_for(booking)
    if meeting.met_at is not None:
        return meeting
    if code_locked(meeting):
        raise SafetyError(_locked_message())
    typed = "".join(character for character in (code or "") if not character.isspace())[:16]
    if len(typed) == CODE_DIGITS and typed.isascii() and typed.isdigit() and hmac.compare_digest(typed, meeting.code):
        with transaction.atomic():
            met = Meeting.objects.filter(
                pk=meeting.pk, met_at__isnull=True, code_attempts__lt=MAX_CODE_ATTEMPTS
            ).update(met_at=now)
            if met:
                record(booking, SafetyEventKind.CHECKED_IN, actor=user, now=now)
        meeting.refresh_from_db()
        if meeting.met_at is None:
            raise SafetyError(_locked_message())
        return meeting
    with transaction.atomic():
        counted = Meeting.objects.filter(
            pk=meeting.pk, met_at__isnull=True, code_attempts__lt=MAX_CODE_ATTEMPTS
        ).update(code_attempts=F("code_attempts") + 1)
        if counted:
            record(booking, SafetyEventKind.WRONG_CODE, actor=user, now=now)
    meeting.refresh_from_db()
    if meeting.met_at is not None:
        return meeting  # met by a concurrent right code
    left = MAX_CODE_ATTEMPTS - meeting.code_attempts
    if not counted or left <= 0:
        raise SafetyError(_locked_message(), field="code")
    raise SafetyError(
        _("That is not the code. Ask the customer to read it from their booking page. Tries left: %(left)s.")
        % {"left": left},
        field="code",
    )


def _party_field(role: str, stem: str) -> str:
    return f"{role}_{stem}_at"


def _mark_once(meeting: Meeting, booking: Booking, user, field: str, kind: str, now: datetime) -> Meeting:
    """Sets the party's mark if it is not set yet (one conditional UPDATE: a double tap records once)."""
    with transaction.atomic():
        if Meeting.objects.filter(pk=meeting.pk, **{f"{field}__isnull": True}).update(**{field: now}):
            record(booking, kind, actor=user, now=now)
    meeting.refresh_from_db()
    return meeting


def meeting_end(*, booking: Booking, user, now: datetime | None = None) -> Meeting:
    """ "Done, all good" by either party once met: stops the welfare check. Twice changes nothing."""
    now = now or timezone.now()
    role = role_of(booking, user)
    if role is None:
        raise SafetyError(_("Only the two people of the booking can end the meeting."))
    meeting = meeting_for(booking)
    if meeting is None or meeting.met_at is None:
        raise SafetyError(_("The meeting can be ended once the companion has entered the check-in code."))
    return _mark_once(meeting, booking, user, _party_field(role, "ended"), SafetyEventKind.ENDED, now)


def say_fine(*, booking: Booking, user, now: datetime | None = None) -> Meeting:
    """ "I'm fine", the answer to the welfare question (once asked). Twice changes nothing."""
    now = now or timezone.now()
    role = role_of(booking, user)
    if role is None:
        raise SafetyError(_("Only the two people of the booking can answer."))
    meeting = meeting_for(booking)
    if meeting is None or meeting.asked_at is None:
        raise SafetyError(_("Nobody asked yet: there is nothing to answer."))
    return _mark_once(meeting, booking, user, _party_field(role, "fine"), SafetyEventKind.FINE, now)
