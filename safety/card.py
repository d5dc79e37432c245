"""What the booking page shows of safety (registered in bookings/hooks.py by SafetyConfig.ready()): the
safety card per role, and the safety steps of the timeline. Constant queries: the card reads the meeting and
the viewer's trusted contact (none unless the booking is confirmed); the timeline reads the booking's safety
events (none for a booking never paid)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from bookings.models import Booking, BookingStatus
from bookings.timeline import TimelineStep
from safety.contacts import can_share, contact_of
from safety.meeting import COMPANION, CUSTOMER, MAX_CODE_ATTEMPTS, code_locked, in_window, meeting_for, role_of
from safety.meeting import window as meeting_window
from safety.models import SafetyEvent, SafetyEventKind


def safety_card(booking: Booking, user, now: datetime) -> dict | None:
    """The card for the viewer, or None (not a party, not confirmed, long past)."""
    role = role_of(booking, user)
    if role is None or booking.status != BookingStatus.CONFIRMED or not can_share(booking, now):
        return None
    meeting = meeting_for(booking)
    opens, closes = meeting_window(booking)
    live = in_window(booking, now)
    met = meeting.met_at is not None
    ended = meeting.ended
    mine_ended = getattr(meeting, f"{role}_ended_at") is not None
    mine_fine = getattr(meeting, f"{role}_fine_at") is not None
    locked = code_locked(meeting)
    return {
        "role": role,
        "code": meeting.code if role == CUSTOMER and not met else "",
        "met": met,
        "met_at": meeting.met_at,
        "ended": ended,
        "mine_ended": mine_ended,
        "locked": locked and not met,
        "tries_left": max(0, MAX_CODE_ATTEMPTS - meeting.code_attempts),
        "opens": opens,
        "closes": closes,
        "live": live,
        "before_window": now < opens,
        "can_check_in": role == COMPANION and live and not met and not locked,
        "can_end": met and not mine_ended,
        "asked": meeting.asked_at is not None and not ended,
        "can_say_fine": meeting.asked_at is not None and not mine_fine and not ended,
        "said_fine": mine_fine,
        "can_sos": live,
        "sos_raised": meeting.sos_at is not None,
        "contact": contact_of(user),
    }


def _label(event: SafetyEvent) -> tuple[str, str]:
    name = event.actor.get_short_name() if event.actor_id else ""
    label = str(SafetyEventKind(event.kind).label)
    if event.kind == SafetyEventKind.CONTACT_TOLD:
        return label, _("%(name)s's trusted contact") % {"name": name}
    if event.kind == SafetyEventKind.ASKED:
        return label, _('Both of you were asked "Are you OK?".')
    return label, (_("By %(name)s") % {"name": name}) if name else ""


def safety_steps(booking: Booking) -> list[TimelineStep]:
    """The booking's safety events as timeline steps (none, and no query, before it was ever paid)."""
    if booking.paid_at is None:
        return []
    steps = []
    for event in SafetyEvent.objects.filter(booking=booking).select_related("actor").order_by("created_at", "id"):
        label, note = _label(event)
        steps.append(TimelineStep(f"safety-{event.kind}", label, event.created_at, "done", note))
    return steps
