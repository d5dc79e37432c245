"""Deleting an account (issue 15): what must be finished first, the request that deactivates the account
at once, the cancellation by logging in during the grace period, and the purge after it.

- `deletion_blockers(user)`: every booking that holds time or money, open dispute, open report, refund or
  payout not yet paid, earnings not yet paid out, and whatever other apps registered
  (core.personal_data.register_blocker), each as a sentence naming it.
- `deletion_request(user, now)`: under the person's row lock (and their companion profile's, the lock a
  booking request takes on the companion side: users before profiles, as bookings/locks.py does), the
  blockers are checked again, the request is stored, the account deactivated, their sessions ended,
  their profile hidden, and a receipt emailed.
- `deletion_cancel(user, now)`: logging in during the grace period (privacy/backends.py) undoes it.
- `purge_due(now)` / `purge_person(user_id, now)`: one transaction per person with their row locked, every
  declaration's purge in order, files shredded only after the commit (privacy/shredding.py), the request
  marked purged and the journal written; a purge that fails midway rolls back whole and runs again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import services as account_services
from accounts import tasks as account_tasks
from accounts.models import User
from accounts.tasks import email_as_dict, send_email_task
from bookings.models import HOLDING_STATUSES, Booking, BookingStatus
from chat.models import Report as ChatReport
from chat.models import ReportAction as ChatReportAction
from companions import page_cache
from companions.models import CompanionProfile
from core import after_commit, formatting, locks, mail, personal_data
from core.errors import UserFacingError
from payments.models import Payout, Refund
from payments.selectors import companion_balances
from privacy import journal, shredding
from privacy.models import DeletionRequest, DeletionStatus, PurgeRecord
from reviews.models import SafetyReport
from safety.models import ModerationAction, ModerationKind, PersonReport, ReportStatus

logger = logging.getLogger(__name__)

# The person's row is waited for briefly: a deletion is a person's own click, a purge a background job.
DELETION_LOCK_TIMEOUT_MS = 2000
PURGE_LOCK_TIMEOUT_MS = 500

UNPAID_REFUND_STATUSES = (
    Refund.Status.PENDING,
    Refund.Status.NEEDS_DETAILS,
    Refund.Status.MANUAL_QUEUED,
    Refund.Status.FAILED,
)


class DeletionError(UserFacingError):
    """The deletion cannot go ahead (something must be finished first, or the account is busy)."""

    def __init__(self, message: str, *, blockers: list[str] | None = None) -> None:
        super().__init__(message, field=None)
        self.blockers = blockers or []


# --- What must be finished first ----------------------------------------------------------------------


def _language(user: User) -> str:
    return translation.get_language() or user.preferred_language or settings.LANGUAGE_CODE


def _day(user: User, moment: datetime) -> str:
    from zoneinfo import ZoneInfo

    return formatting.format_date(moment.astimezone(ZoneInfo(user.time_zone)).date(), language=_language(user))


def _money(user: User, amount: int) -> str:
    return formatting.format_rupiah(amount, language=_language(user))


def _booking_blockers(user: User) -> list[str]:
    found = []
    bookings = (
        Booking.objects.filter(Q(customer=user) | Q(companion__user=user), status__in=HOLDING_STATUSES)
        .only("reference", "start", "status")
        .order_by("start", "pk")
    )
    for booking in bookings:
        values = {"reference": booking.reference, "date": _day(user, booking.start)}
        if booking.status == BookingStatus.DISPUTED:
            found.append(
                _("Booking %(reference)s on %(date)s is disputed: wait until our team has resolved it.") % values
            )
        elif booking.status == BookingStatus.CONFIRMED:
            found.append(_("Booking %(reference)s on %(date)s is confirmed: finish it or cancel it first.") % values)
        elif booking.status == BookingStatus.AWAITING_PAYMENT:
            found.append(
                _("Booking %(reference)s on %(date)s is waiting for payment: pay for it or cancel it first.") % values
            )
        else:
            found.append(
                _("Booking %(reference)s on %(date)s is waiting for an answer: withdraw or answer it first.") % values
            )
    return found


def _money_blockers(user: User) -> list[str]:
    found = []
    refunds = (
        Refund.objects.filter(booking__customer=user, status__in=UNPAID_REFUND_STATUSES)
        .select_related("booking")
        .order_by("created_at", "pk")
    )
    for refund in refunds:
        values = {"amount": _money(user, refund.amount), "reference": refund.booking.reference}
        if refund.status == Refund.Status.NEEDS_DETAILS:
            found.append(
                _("The refund of %(amount)s for booking %(reference)s needs your bank details: give them first.")
                % values
            )
        else:
            found.append(
                _("The refund of %(amount)s for booking %(reference)s is not paid yet: wait until it arrives.") % values
            )
    profile = CompanionProfile.objects.filter(user=user).only("pk").first()
    if profile is not None:
        open_payouts = list(Payout.objects.filter(profile=profile, status__in=Payout.OPEN_STATUSES).order_by("pk"))
        for payout in open_payouts:
            found.append(
                _("Your payout of %(amount)s requested on %(date)s is not paid yet: wait until it arrives.")
                % {"amount": _money(user, payout.amount), "date": _day(user, payout.requested_at)}
            )
        owed = companion_balances(profile)["available"]
        if owed > 0:
            found.append(
                _("You have %(amount)s of earnings not paid out yet: request a payout first.")
                % {"amount": _money(user, owed)}
            )
    return found


def _report_blockers(user: User) -> list[str]:
    found = []
    made = list(
        PersonReport.objects.filter(reporter=user, status=ReportStatus.OPEN).values_list("created_at", flat=True)
    )
    made += list(
        ChatReport.objects.filter(
            reporter=user, status__in=(ChatReport.Status.OPEN, ChatReport.Status.IN_REVIEW)
        ).values_list("created_at", flat=True)
    )
    made += list(
        SafetyReport.objects.filter(review__author=user, handled_at__isnull=True).values_list("created_at", flat=True)
    )
    for created_at in sorted(made):
        found.append(
            _(
                "Your report of %(date)s is still being reviewed by our team: you can delete your account once it "
                "is closed."
            )
            % {"date": _day(user, created_at)}
        )
    about = (
        PersonReport.objects.filter(reported=user, status=ReportStatus.OPEN).exists()
        or ChatReport.objects.filter(
            reported=user, status__in=(ChatReport.Status.OPEN, ChatReport.Status.IN_REVIEW)
        ).exists()
        or SafetyReport.objects.filter(review__subject=user, handled_at__isnull=True).exists()
    )
    if about:
        found.append(
            _(
                "A report involving your account is being reviewed by our team: you can delete your account once it "
                "is closed."
            )
        )
    return found


def deletion_blockers(user: User) -> list[str]:
    """What the person must finish before their account can be deleted (empty: nothing)."""
    found = _booking_blockers(user) + _money_blockers(user) + _report_blockers(user)
    for blocker in personal_data.blockers():
        found.extend(blocker(user))
    return found


# --- Requesting and cancelling ------------------------------------------------------------------------


def grace_days() -> int:
    return int(getattr(settings, "PRIVACY_DELETION_GRACE_DAYS", 14))


def scheduled_deletion(user_id: int) -> DeletionRequest | None:
    return DeletionRequest.objects.filter(user_id=user_id, status=DeletionStatus.SCHEDULED).first()


def _lock_person(user_id: int, *, timeout_ms: int) -> User | None:
    """The person's row, then their companion profile's (the order bookings/locks.py takes them in)."""
    user = locks.lock_one(User, user_id, timeout_ms=timeout_ms)
    if user is not None:
        locks.lock(CompanionProfile.objects.filter(user_id=user_id), timeout_ms=timeout_ms)
    return user


def _busy() -> DeletionError:
    return DeletionError(_("Your account is busy right now (a booking or payment is being processed). Try again."))


def _receipt(user: User, deletion: DeletionRequest) -> dict:
    language = user.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "user": user,
            "purge_date": formatting.format_datetime(deletion.purge_after, zone=user.time_zone, language=language),
            "login_url": settings.SITE_URL.rstrip("/") + reverse("account_login"),
            "grace_days": grace_days(),
        }
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("Your account will be deleted")
        body = render_to_string("privacy/email/deletion_scheduled.txt", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Message-ID": mail.message_id(f"privacy.deletion.{deletion.pk}")},
    )
    return email_as_dict(email)


def deletion_request(user: User, now: datetime | None = None) -> DeletionRequest:
    """Deactivates the account at once and schedules its purge. Raises DeletionError with the blockers when
    something must be finished first. Asking twice keeps the first request."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            locked = _lock_person(user.pk, timeout_ms=DELETION_LOCK_TIMEOUT_MS)
            if locked is None:
                raise DeletionError(_("This account no longer exists."))
            existing = scheduled_deletion(user.pk)
            if existing is not None:
                return existing
            blockers = deletion_blockers(locked)
            if blockers:
                raise DeletionError(_("Finish these first, then you can delete your account."), blockers=blockers)
            deletion = DeletionRequest.objects.create(
                user=locked, requested_at=now, purge_after=now + timedelta(days=grace_days())
            )
            User.objects.filter(pk=locked.pk).update(is_active=False)
            locked.is_active = False
            user.is_active = False
            # A companion leaves search and their page at once (companions' listener, page cache bumped).
            account_services.user_active_changed(user=locked)
            after_commit.enqueue(account_tasks.end_sessions_task, locked.pk)
            after_commit.enqueue(send_email_task, _receipt(locked, deletion))
            return deletion
    except locks.LockBusy as error:
        raise _busy() from error


def _moderated_since(user_id: int, since: datetime) -> bool:
    """Staff suspended or banned the person after they asked for the deletion: logging in must not undo it."""
    return (
        ModerationAction.objects.filter(
            user_id=user_id, kind__in=(ModerationKind.SUSPEND, ModerationKind.BAN), created_at__gte=since
        ).exists()
        or ChatReportAction.objects.filter(
            report__reported_id=user_id,
            kind__in=(ChatReportAction.Kind.SUSPEND, ChatReportAction.Kind.BAN),
            created_at__gte=since,
        ).exists()
    )


def may_log_in_to_cancel(user: User) -> bool:
    """An inactive person whose deletion is scheduled may log in, which cancels it; a suspended or banned
    person (no scheduled deletion, or moderated since) may not."""
    if user.is_active or user.erased_at is not None:
        return False
    deletion = scheduled_deletion(user.pk)
    return deletion is not None and not _moderated_since(user.pk, deletion.requested_at)


def deletion_cancel(user: User, now: datetime | None = None) -> bool:
    """Cancels the scheduled deletion and reactivates the account (the person logged in during the grace
    period). False when there was nothing to cancel (already purged, or never asked)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_person(user.pk, timeout_ms=DELETION_LOCK_TIMEOUT_MS)
        if locked is None or not may_log_in_to_cancel(locked):
            return False
        DeletionRequest.objects.filter(user=locked, status=DeletionStatus.SCHEDULED).update(
            status=DeletionStatus.CANCELLED, cancelled_at=now
        )
        User.objects.filter(pk=locked.pk).update(is_active=True)
        locked.is_active = True
        user.is_active = True
        account_services.user_active_changed(user=locked)
    return True


# --- The purge ---------------------------------------------------------------------------------------


@dataclass
class PurgeOutcome:
    purged: int = 0
    skipped: int = 0
    failed: int = 0


def pseudonym(user_id: int) -> str:
    return f"former-user-{user_id}"


def _run_purges(user: User, now: datetime) -> list[tuple[object, str]]:
    ctx = personal_data.PurgeContext(now=now, pseudonym=pseudonym(user.pk))
    for declaration in personal_data.declarations():
        if declaration.purge is not None:
            declaration.purge(user, ctx)
    return ctx.files


def purge_person(user_id: int, now: datetime | None = None, *, replay: bool = False) -> bool:
    """Purges one person whose deletion is due, in one transaction with their row locked. False when they
    are skipped: busy (locked by someone else), cancelled meanwhile, not due, or gone. With `replay`
    (a restored backup, privacy/management/commands/replay_purge_journal.py) a journalled person is purged
    again whatever their request says."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            user = _lock_person(user_id, timeout_ms=PURGE_LOCK_TIMEOUT_MS)
            if user is None:
                return False
            deletion = (
                DeletionRequest.objects.select_for_update()
                .filter(user_id=user_id, status=DeletionStatus.SCHEDULED, purge_after__lte=now)
                .first()
            )
            if deletion is None and not (replay and PurgeRecord.objects.filter(user_id=user_id).exists()):
                return False
            files = _run_purges(user, now)
            if deletion is not None:
                DeletionRequest.objects.filter(pk=deletion.pk).update(status=DeletionStatus.PURGED, purged_at=now)
            PurgeRecord.objects.get_or_create(user_id=user_id, defaults={"purged_at": now})
            shredding.shred_after_commit(files)
            # The journal's copy outside the database (a restored backup must not bring the person back).
            transaction.on_commit(lambda: journal.write(user_id, now), robust=True)
    except locks.LockBusy:
        logger.info("purge of user %s skipped: busy", user_id)
        return False
    return True


def due_user_ids(now: datetime) -> list[int]:
    return list(
        DeletionRequest.objects.filter(status=DeletionStatus.SCHEDULED, purge_after__lte=now)
        .order_by("purge_after", "pk")
        .values_list("user_id", flat=True)
    )


def purge_due(now: datetime | None = None) -> PurgeOutcome:
    """Purges everyone whose grace period is over, one transaction each: a failure leaves that person
    exactly as before (logged; the next run tries again) and the others go ahead."""
    now = now or timezone.now()
    outcome = PurgeOutcome()
    for user_id in due_user_ids(now):
        try:
            done = purge_person(user_id, now)
        except Exception:
            logger.exception("purge of user %s failed; rolled back, retried on the next run", user_id)
            outcome.failed += 1
            continue
        if done:
            outcome.purged += 1
        else:
            outcome.skipped += 1
    if outcome.purged:
        # Pages cached before naming the purged people (their reviews on others' profiles): once per run.
        page_cache.everything_changed()
    return outcome


def journal_add(user_ids: list[int]) -> int:
    """Adds journal entries kept outside the database (a restore lost them); returns how many were new."""
    before = PurgeRecord.objects.count()
    PurgeRecord.objects.bulk_create([PurgeRecord(user_id=user_id) for user_id in user_ids], ignore_conflicts=True)
    return PurgeRecord.objects.count() - before


def replay_journal(now: datetime | None = None) -> int:
    """Re-applies the purge of every journalled person (after a backup restore). Idempotent."""
    now = now or timezone.now()
    replayed = 0
    for user_id in PurgeRecord.objects.order_by("pk").values_list("user_id", flat=True):
        if purge_person(user_id, now, replay=True):
            replayed += 1
    return replayed
