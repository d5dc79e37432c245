"""SOS (issue 15): inside the meeting window (safety/meeting.py), either party: one open SafetyAlert "sos" per
booking (priority 0, the top of the staff safety queue; a second tap adds nothing), the presser's trusted contact told
by WhatsApp with a share link, and the safety team emailed at once (settings.SAFETY_TEAM_EMAILS, else ADMINS,
else the support address; safety.tasks.sos_email_task, retried). The SOS page always shows the emergency
numbers to call (112, police 110, ambulance 119)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking
from core import after_commit
from safety.contacts import tell_contact
from safety.meeting import SafetyError, in_window, meeting_for, record, role_of
from safety.models import AlertKind, Meeting, SafetyAlert, SafetyEvent, SafetyEventKind
from safety.tasks import sos_email_task
from safety.welfare import raise_alert


def sos_raise(*, booking: Booking, user, now: datetime | None = None) -> bool:
    """SOS by a party inside the meeting window: one open alert per booking (the staff emailed when it is
    raised), and the presser's trusted contact told once per open alert (so the other party's SOS still
    reaches their own contact). True when this press did something; False for a repeated tap. Raises
    SafetyError."""
    now = now or timezone.now()
    if role_of(booking, user) is None:
        raise SafetyError(_("Only the two people of the booking can press SOS."))
    if not in_window(booking, now):
        raise SafetyError(_("SOS is for the time of the meeting. In an emergency call 112."))
    meeting = meeting_for(booking)
    with transaction.atomic():
        Meeting.objects.select_for_update().filter(pk=meeting.pk).first()  # one press at a time per meeting
        alert = raise_alert(booking, AlertKind.SOS, priority=0, raised_by=user, now=now)
        if alert is None:
            open_alert = SafetyAlert.objects.filter(
                booking=booking, kind=AlertKind.SOS, handled_at__isnull=True
            ).first()
            pressed = SafetyEvent.objects.filter(booking=booking, kind=SafetyEventKind.SOS, actor=user)
            if open_alert is None or pressed.filter(created_at__gte=open_alert.created_at).exists():
                return False
        Meeting.objects.filter(pk=meeting.pk, sos_at__isnull=True).update(sos_at=now)
        record(booking, SafetyEventKind.SOS, actor=user, now=now)
        tell_contact(booking=booking, user=user, event="contact_sos", now=now)
        if alert is not None:
            after_commit.enqueue(sos_email_task, alert.pk)
    return True
