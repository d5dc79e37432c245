"""Staff decisions about a person (issue 15): warn, suspend, ban, reinstate, dismiss. One service per action,
each under the person's row lock, each recorded as a ModerationAction with the staff member and the reason.

- warn: the person is told in general terms (in-app and email), nothing else changes.
- suspend: the account is deactivated (no login: allauth's "inactive" page; every open session ends), the
  companion profile leaves search and its cached pages, and every future booking of theirs (as customer or
  companion: requested, awaiting payment, confirmed) is stopped by bookings.services.booking_stop_for_moderation.
  Our rule, the simplest fair one: whichever side is suspended, a confirmed booking's customer gets everything
  back (a suspended customer too: staff act on a report, not a verdict), and the other party is told.
- ban: the same, permanent: only a superuser may reinstate a banned person.
- reinstate: the account is active again and a companion is relisted (if their profile is complete); never for
  an account whose personal data was erased (User.erased_at).
- dismiss: the report is closed without action.

Each decision taken on a report closes it (actioned or dismissed), marks its alert in the safety queue
handled, and tells the reporter the outcome in general terms only.

Two staff deciding at the same moment: the person's row lock orders them; the second finds the bookings
already stopped (one set of cancellations and refunds) and a report already decided is refused.

`restricted(user)` says whether a person stands suspended or banned: the privacy app's "log in to cancel my
deletion" must refuse such a person (their account is inactive for another reason than the deletion)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import services as account_services
from accounts import tasks as account_tasks
from accounts.models import User
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from companions.models import CompanionProfile
from core import after_commit, locks
from core.errors import UserFacingError
from core.forms import clean_text
from notifications.services import notification_record
from safety.models import ModerationAction, ModerationKind, PersonReport, ReportStatus, SafetyAlert

logger = logging.getLogger(__name__)

K = ModerationKind
# The permission staff need to take these decisions (the admin's actions and pages ask for it).
PERMISSION = "safety.add_moderationaction"
REASON_MAX_LENGTH = 2000
STOPPED_STATUSES = (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT, BookingStatus.CONFIRMED)


class ModerationError(UserFacingError):
    pass


# --- What a person's standing is -----------------------------------------------------------------------


def standing(user_id: int) -> str | None:
    """ "suspend" or "ban" while the person's latest account decision is one of those; None otherwise."""
    latest = (
        ModerationAction.objects.filter(user_id=user_id, kind__in=(K.SUSPEND, K.BAN, K.REINSTATE))
        .order_by("-created_at", "-pk")
        .values_list("kind", flat=True)
        .first()
    )
    return latest if latest in (K.SUSPEND, K.BAN) else None


def restricted(user: User) -> bool:
    """True while staff keep this person out (suspended or banned, not reinstated)."""
    return standing(user.pk) is not None


# --- Shared steps ---------------------------------------------------------------------------------------


def _require_staff(staff: User) -> None:
    if not (staff.is_active and staff.is_staff and staff.has_perm(PERMISSION)):
        raise ModerationError(_("Only staff of the safety team can do this."))


def _clean_reason(reason: str) -> str:
    reason = clean_text(reason or "", multiline=True).strip()
    if not reason:
        raise ModerationError(_("Say why: the reason is recorded."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ModerationError(_("Write at most %(count)d characters.") % {"count": REASON_MAX_LENGTH}, field="reason")
    return reason


def _lock_person(user_id: int) -> User:
    """The person's row, then (a companion) their profile: a booking request waiting on the profile's lock
    reads the account as it is once this decision commits."""
    try:
        person = locks.lock_one(User, user_id)
        locks.lock(CompanionProfile.objects.filter(user_id=user_id))
    except locks.LockBusy as error:
        raise ModerationError(_("Someone else is changing this account right now. Try again in a moment.")) from error
    if person is None:
        raise ModerationError(_("This person no longer exists."))
    return person


def _lock_open_report(report: PersonReport | None, person: User) -> PersonReport | None:
    if report is None:
        return None
    locked = locks.lock_one(PersonReport, report.pk)
    if locked is None or locked.reported_id != person.pk:
        raise ModerationError(_("This report is not about this person."))
    if locked.status != ReportStatus.OPEN:
        raise ModerationError(_("This report was already decided by someone else."))
    return locked


def _close_report(report: PersonReport | None, *, actioned: bool, staff: User, now: datetime, note: str) -> None:
    """The report closes, its alert is handled, and the reporter hears the outcome in general terms."""
    if report is None:
        return
    report.status = ReportStatus.ACTIONED if actioned else ReportStatus.DISMISSED
    report.closed_at = now
    report.save(update_fields=["status", "closed_at"])
    SafetyAlert.objects.filter(report=report, handled_at__isnull=True).update(
        handled_at=now, handled_by=staff, note=note[:2000]
    )
    notification_record(
        recipient=report.reporter,
        event="report_actioned" if actioned else "report_closed",
        context={},
        dedupe_key=f"report-outcome:{report.pk}",
    )


def _record(person: User, report: PersonReport | None, kind: str, reason: str, staff: User, now: datetime):
    return ModerationAction.objects.create(
        user=person, report=report, kind=kind, reason=reason, staff=staff, created_at=now
    )


def _future_bookings(user_id: int, now: datetime) -> list[int]:
    return list(
        Booking.objects.filter(Q(customer_id=user_id) | Q(companion__user_id=user_id))
        .filter(status__in=STOPPED_STATUSES, start__gt=now)
        .order_by("start", "pk")
        .values_list("pk", flat=True)
    )


# --- The actions ----------------------------------------------------------------------------------------


def warn(*, user: User, staff: User, reason: str, report: PersonReport | None = None, now=None) -> ModerationAction:
    now = now or timezone.now()
    _require_staff(staff)
    reason = _clean_reason(reason)
    with transaction.atomic():
        person = _lock_person(user.pk)
        report = _lock_open_report(report, person)
        action = _record(person, report, K.WARN, reason, staff, now)
        notification_record(recipient=person, event="moderation_warning", context={})
        _close_report(report, actioned=True, staff=staff, now=now, note=reason)
    return action


def _keep_out(*, kind: str, user: User, staff: User, reason: str, report: PersonReport | None, now) -> ModerationAction:
    now = now or timezone.now()
    _require_staff(staff)
    reason = _clean_reason(reason)
    with transaction.atomic():
        person = _lock_person(user.pk)
        report = _lock_open_report(report, person)
        if kind == K.SUSPEND and standing(person.pk) == K.BAN:
            raise ModerationError(_("This person is banned already."))
        action = _record(person, report, kind, reason, staff, now)
        if person.is_active:
            person.is_active = False
            person.save(update_fields=["is_active"])
        account_services.user_active_changed(user=person)  # a companion leaves search and their cached pages
        for booking_id in _future_bookings(person.pk, now):
            booking_services.booking_stop_for_moderation(
                booking_id=booking_id, actor=staff, suspended_id=person.pk, now=now
            )
        _close_report(report, actioned=True, staff=staff, now=now, note=reason)
        after_commit.enqueue(account_tasks.end_sessions_task, person.pk)
    return action


def suspend(*, user: User, staff: User, reason: str, report: PersonReport | None = None, now=None) -> ModerationAction:
    return _keep_out(kind=K.SUSPEND, user=user, staff=staff, reason=reason, report=report, now=now)


def ban(*, user: User, staff: User, reason: str, report: PersonReport | None = None, now=None) -> ModerationAction:
    return _keep_out(kind=K.BAN, user=user, staff=staff, reason=reason, report=report, now=now)


def keep_out_from_elsewhere(*, user: User, staff: User, kind: str, reason: str) -> None:
    """Staff switched the person off outside the safety queue (the user admin's "active" box, a chat
    report's suspend or ban; accounts.hooks.register_staff_deactivation): the same decision as from the
    queue, so it is recorded and their future bookings stop with refunds. A banned person stays banned."""
    kind = K.BAN if kind == K.BAN else K.SUSPEND
    if standing(user.pk) == K.BAN:
        return
    _keep_out(kind=kind, user=user, staff=staff, reason=reason, report=None, now=None)


def reinstate(
    *, user: User, staff: User, reason: str, report: PersonReport | None = None, now=None
) -> ModerationAction:
    now = now or timezone.now()
    _require_staff(staff)
    reason = _clean_reason(reason)
    with transaction.atomic():
        person = _lock_person(user.pk)
        # Reinstating usually follows a report already decided: it stays as it is (an open one is closed).
        open_report = _lock_open_report(report, person) if report and report.status == ReportStatus.OPEN else None
        current = standing(person.pk)
        if current is None:
            raise ModerationError(_("This person is not suspended or banned."))
        if current == K.BAN and not staff.is_superuser:
            raise ModerationError(_("Only a superuser can reinstate a banned person."))
        if person.erased_at is not None:
            raise ModerationError(_("This account's personal data was erased: it cannot be reinstated."))
        action = _record(person, report, K.REINSTATE, reason, staff, now)
        person.is_active = True
        person.save(update_fields=["is_active"])
        account_services.user_active_changed(user=person)  # a complete companion profile is listed again
        _close_report(open_report, actioned=False, staff=staff, now=now, note=reason)
    return action


def dismiss(*, report: PersonReport, staff: User, reason: str, now=None) -> ModerationAction:
    now = now or timezone.now()
    _require_staff(staff)
    reason = _clean_reason(reason)
    with transaction.atomic():
        person = _lock_person(report.reported_id)
        report = _lock_open_report(report, person)
        action = _record(person, report, K.DISMISS, reason, staff, now)
        _close_report(report, actioned=False, staff=staff, now=now, note=reason)
    return action


ACTIONS = {K.WARN: warn, K.SUSPEND: suspend, K.BAN: ban, K.REINSTATE: reinstate}


def decide(*, kind: str, report: PersonReport, staff: User, reason: str, now=None) -> ModerationAction:
    """The admin's one entry: `kind` taken on `report` about its reported person."""
    if kind == K.DISMISS:
        return dismiss(report=report, staff=staff, reason=reason, now=now)
    if kind not in ACTIONS:
        raise ModerationError(_("Unknown decision."))
    return ACTIONS[kind](user=report.reported, staff=staff, reason=reason, report=report, now=now)
