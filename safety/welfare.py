"""The welfare check and SOS (issue 15).

Welfare check (`welfare_sweep`, a beat task every minute; `manage.py welfare_check_now [--at]` runs it on
demand, the demo clock): a confirmed meeting that neither party marked ended ("done, all good")
- at end + 15 minutes: both parties are asked "Are you OK?" (in-app, and WhatsApp where opted in; the
  message links to the booking page, where "I'm fine" is one POST button: no token in any message);
- at end + 30 minutes (and at least 15 minutes after the question, so a late sweep never asks and escalates
  in one go), unless both said "I'm fine": the trusted contact of each party who did not answer (if saved)
  gets a WhatsApp message with a new share link, and the booking lands in the staff safety queue
  (SafetyAlert "welfare", priority 1).
Never once the meeting is ended. Each step happens once: it is claimed by one conditional UPDATE on
Meeting.asked_at / escalated_at, so two sweeps at the same moment do it once. Meetings whose end lies more
than LOOKBACK back are left alone (a sweep that was down for a day does not wake people at night).

SOS is safety/sos.py. Every step is a SafetyEvent, shown on the booking's timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from notifications.services import notification_record
from safety.contacts import tell_contact
from safety.meeting import new_code, record
from safety.models import AlertKind, Meeting, SafetyAlert, SafetyEventKind

ASK_AFTER = timedelta(minutes=15)
ESCALATE_AFTER = timedelta(minutes=30)
ANSWER_TIME = timedelta(minutes=15)  # at least this long between the question and the escalation
LOOKBACK = timedelta(hours=12)
SWEEP_LIMIT = 500


def _not_ended() -> Q:
    return Q(customer_ended_at__isnull=True, companion_ended_at__isnull=True)


def _ensure_meetings(now: datetime) -> None:
    """Meetings for the confirmed bookings due a question that nobody opened since they were confirmed."""
    missing = Booking.objects.filter(
        status=BookingStatus.CONFIRMED,
        end__lte=now - ASK_AFTER,
        end__gte=now - LOOKBACK,
        meeting__isnull=True,
    ).values_list("pk", flat=True)[:SWEEP_LIMIT]
    Meeting.objects.bulk_create([Meeting(booking_id=pk, code=new_code()) for pk in missing], ignore_conflicts=True)


def _due(now: datetime, after: timedelta):
    return Meeting.objects.filter(
        _not_ended(),
        booking__status=BookingStatus.CONFIRMED,
        booking__end__lte=now - after,
        booking__end__gte=now - LOOKBACK,
    )


def _parties(booking: Booking):
    return [booking.customer, booking.companion.user]


def _ask(meeting_id: int, now: datetime) -> bool:
    with transaction.atomic():
        if not Meeting.objects.filter(_not_ended(), pk=meeting_id, asked_at__isnull=True).update(asked_at=now):
            return False  # another sweep asked, or the meeting was ended meanwhile
        meeting = Meeting.objects.select_related("booking__customer", "booking__companion__user").get(pk=meeting_id)
        booking = meeting.booking
        record(booking, SafetyEventKind.ASKED, now=now)
        for party in _parties(booking):
            notification_record(
                recipient=party,
                event="meeting_welfare_check",
                context={"reference": booking.reference},
                dedupe_key=f"welfare-ask:{booking.pk}:{party.pk}",
                email=False,
            )
    return True


def _escalate(meeting_id: int, now: datetime) -> bool:
    with transaction.atomic():
        claimed = (
            Meeting.objects.filter(_not_ended(), pk=meeting_id, escalated_at__isnull=True, asked_at__isnull=False)
            .exclude(customer_fine_at__isnull=False, companion_fine_at__isnull=False)
            .update(escalated_at=now)
        )
        if not claimed:
            return False
        meeting = Meeting.objects.select_related("booking__customer", "booking__companion__user").get(pk=meeting_id)
        booking = meeting.booking
        silent = []
        if meeting.customer_fine_at is None:
            silent.append(booking.customer)
        if meeting.companion_fine_at is None:
            silent.append(booking.companion.user)
        for party in silent:
            tell_contact(booking=booking, user=party, event="contact_welfare", now=now)
        record(booking, SafetyEventKind.ESCALATED, now=now)
        raise_alert(booking, AlertKind.WELFARE, priority=1, raised_by=None, now=now)
    return True


def raise_alert(booking: Booking, kind: str, *, priority: int, raised_by, now: datetime) -> SafetyAlert | None:
    """One open alert of a kind per booking (a database constraint): None when one is open already."""
    try:
        with transaction.atomic():
            return SafetyAlert.objects.create(
                kind=kind, priority=priority, booking=booking, raised_by=raised_by, created_at=now
            )
    except IntegrityError:
        return None


def welfare_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the welfare check at `now`: {"asked": n, "escalated": n}. Safe to run at any time, as
    often as wanted, concurrently."""
    now = now or timezone.now()
    _ensure_meetings(now)
    to_ask = _due(now, ASK_AFTER).filter(asked_at__isnull=True).values_list("pk", flat=True)[:SWEEP_LIMIT]
    asked = sum(_ask(pk, now) for pk in list(to_ask))
    to_escalate = (
        _due(now, ESCALATE_AFTER)
        .filter(escalated_at__isnull=True, asked_at__lte=now - ANSWER_TIME)
        .exclude(customer_fine_at__isnull=False, companion_fine_at__isnull=False)
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    escalated = sum(_escalate(pk, now) for pk in list(to_escalate))
    return {"asked": asked, "escalated": escalated}
