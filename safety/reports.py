"""Reporting a person (issue 15): from a listed companion's profile, or from a booking (either party reports
the other). Each report lands in the staff safety queue (a SafetyAlert: safety and sexual solicitation first).

From a booking that is still ahead, the reporter may also stop it "for my safety", through the booking's own
services, so the money follows the existing rules with one change: whoever stops it, the customer gets
everything back (bookings.policy, `for_safety`); and such a cancellation never counts against the reporter's
reliability or level (Booking.cancelled_for_safety, read by bookings.reliability and bookings.levels).

Limits: 10 reports a day per person, counted in PostgreSQL under the reporter's row lock (two reports sent at
the same moment cannot both be the tenth); never oneself; only a person the reporter can see (the views give
404 otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from bookings import rules as booking_rules
from bookings import services as booking_services
from bookings.errors import BookingError
from bookings.models import Booking, BookingStatus
from core import locks
from core.errors import UserFacingError
from core.forms import clean_text
from notifications.services import notification_record
from safety.models import AlertKind, PersonReport, ReportCategory, ReportStatus, SafetyAlert

DAILY_LIMIT = 10
DAY = timedelta(days=1)
DESCRIPTION_MAX_LENGTH = 2000
# Safety and sexual solicitation come before the other reports in the queue (SOS is 0, welfare 1).
URGENT_CATEGORIES = (ReportCategory.SAFETY, ReportCategory.SEXUAL)

S = BookingStatus


class ReportError(UserFacingError):
    pass


def alert_priority(category: str) -> int:
    return 1 if category in URGENT_CATEGORIES else 2


# --- Stopping a booking for safety -------------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyStop:
    """How the reporter can stop their booking for safety right now (None from `safety_stop` when they cannot)."""

    action: str  # bookings.rules.Action: cancel, withdraw or decline
    label: object


STOP_LABELS = {
    booking_rules.Action.CANCEL: gettext_lazy("Cancel this booking for my safety"),
    booking_rules.Action.WITHDRAW: gettext_lazy("Withdraw this request for my safety"),
    booking_rules.Action.DECLINE: gettext_lazy("Decline this request for my safety"),
}


def safety_stop(booking: Booking, user: User, now: datetime | None = None) -> SafetyStop | None:
    """The one way `user` may stop `booking` now (asked of bookings.rules, like the booking page's buttons):
    a paid booking is cancelled, an unpaid one withdrawn (customer) or cancelled (companion), a request
    withdrawn or declined."""
    now = now or timezone.now()
    if booking.start <= now:
        return None
    actions = booking_rules.available_actions(booking, user, now)
    for action in (booking_rules.Action.CANCEL, booking_rules.Action.WITHDRAW, booking_rules.Action.DECLINE):
        if action in actions:
            return SafetyStop(action=action, label=STOP_LABELS[action])
    return None


def _stop_booking(booking: Booking, reporter: User, stop: SafetyStop, now: datetime) -> None:
    if stop.action == booking_rules.Action.CANCEL:
        booking_services.booking_cancel(booking_id=booking.pk, actor=reporter, now=now, for_safety=True)
    elif stop.action == booking_rules.Action.WITHDRAW:
        booking_services.booking_withdraw(booking_id=booking.pk, actor=reporter, now=now)
    else:
        booking_services.booking_decline(booking_id=booking.pk, actor=reporter, now=now)


# --- The report -----------------------------------------------------------------------------------------


def reports_today(reporter: User, now: datetime) -> int:
    return PersonReport.objects.filter(reporter=reporter, created_at__gt=now - DAY).count()


def report_send(
    *,
    reporter: User,
    reported: User,
    category: str,
    description: str,
    booking: Booking | None = None,
    stop_booking: bool = False,
    now: datetime | None = None,
) -> PersonReport:
    """Records the report, its alert in the staff queue and the reporter's confirmation (in-app), and stops
    the booking for safety when asked (in the same transaction: all or nothing). The caller (the view) has
    checked that the reporter may see `reported`; this checks the rest."""
    now = now or timezone.now()
    if reported.pk == reporter.pk:
        raise ReportError(_("You cannot report yourself."))
    if category not in ReportCategory.values:
        raise ReportError(_("Choose what happened."), field="category")
    description = clean_text(description or "", multiline=True).strip()
    if not description:
        raise ReportError(_("Tell us what happened."), field="description")
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ReportError(
            _("Write at most %(count)d characters.") % {"count": DESCRIPTION_MAX_LENGTH}, field="description"
        )
    if booking is not None and reported.pk not in (booking.customer_id, booking.companion.user_id):
        raise ReportError(_("Only the other person of this booking can be reported here."))
    with transaction.atomic():
        try:
            locks.lock_one(User, reporter.pk)
        except locks.LockBusy as error:
            raise ReportError(_("Many people are using Kompanion right now. Please try again in a moment.")) from error
        if reports_today(reporter, now) >= DAILY_LIMIT:
            raise ReportError(
                _(
                    "You have sent %(count)d reports in the last 24 hours, the most we take. If you are in "
                    "danger, call 112; otherwise, please try again tomorrow."
                )
                % {"count": DAILY_LIMIT}
            )
        stopped = False
        if booking is not None and stop_booking:
            stop = safety_stop(booking, reporter, now)
            if stop is None:
                raise ReportError(_("This booking can no longer be cancelled here."), field="stop_booking")
            try:
                _stop_booking(booking, reporter, stop, now)
            except BookingError as problem:
                raise ReportError(problem.message, field="stop_booking") from problem
            stopped = True
        report = PersonReport.objects.create(
            reporter=reporter,
            reported=reported,
            booking=booking,
            category=category,
            description=description,
            cancelled_booking=stopped,
            created_at=now,
        )
        SafetyAlert.objects.create(
            kind=AlertKind.REPORT,
            priority=alert_priority(category),
            booking=booking,
            raised_by=reporter,
            report=report,
            created_at=now,
        )
        notification_record(recipient=reporter, event="report_received", context={}, deliver=False)
    return report


def has_open_report(user: User) -> bool:
    """A report about this person that our team has not closed (products sells Sorotan only without one)."""
    return PersonReport.objects.filter(reported=user, status=ReportStatus.OPEN).exists()
