"""Booking actions: one function per thing a customer, companion or admin does.

Each action reads straight down, in the shape of Zulip's `zerver/actions`: take the locks
(bookings/locks.py), return early if the booking is already where the action leads (a repeated click
changes nothing), check the actor and the time with the one rule (`rules.require`, the same rule the
pages ask for their buttons), change the status with its audit row (`transitions.change_status`), record
the notifications, and let hooks (bookings/hooks.py) move the money inside the same transaction.

The clock's moves live in bookings/deadlines.py, read-only helpers in selectors.py, policy.py and
pricing.py; the names below keep them importable as `bookings.services.<name>` for older callers.
"""

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts import blocks
from accounts.models import Role, User
from bookings import hooks, locks, policy, rules
from bookings.deadlines import booking_apply_deadline, bookings_sweep, expire_overdue
from bookings.errors import BookingBusy, BookingError, SlotTaken, TimeNotBookable, TransitionNotAllowed
from bookings.models import OPEN_STATUSES, Booking, BookingEvent, BookingStatus, CalendarFeed
from bookings.policy import cancellation_preview
from bookings.pricing import booking_quote, commission_basis_points, with_discount
from bookings.rules import (
    DISPUTE_WINDOW,
    MAX_OPEN_REQUESTS,
    MINIMUM_LEAD_TIME,
    PAYMENT_BEFORE_START,
    PAYMENT_WINDOW,
    RESPONSE_BEFORE_START,
    RESPONSE_WINDOW,
    Action,
)
from bookings.selectors import companion_reliability
from bookings.transitions import change_status, notify, pages_changed
from companions import availability
from companions import selectors as companion_selectors
from companions.availability import NotFree, Reason
from companions.models import Activity, CompanionProfile
from core import formatting
from core.i18n import TIME_ZONE_ABBREVIATIONS

S = BookingStatus

__all__ = [
    "DISPUTE_WINDOW",
    "MAX_OPEN_REQUESTS",
    "MINIMUM_LEAD_TIME",
    "PAYMENT_BEFORE_START",
    "PAYMENT_WINDOW",
    "RESPONSE_BEFORE_START",
    "RESPONSE_WINDOW",
    "Resolution",
    "booking_accept",
    "booking_apply_deadline",
    "booking_cancel",
    "booking_decline",
    "booking_dispute",
    "booking_lock_parties",
    "booking_mark_paid",
    "booking_quote",
    "booking_rehold",
    "booking_request",
    "booking_resolve",
    "booking_stop_for_moderation",
    "booking_time_refusal",
    "booking_withdraw",
    "bookings_sweep",
    "calendar_feed_create",
    "calendar_feed_revoke",
    "cancellation_preview",
    "commission_basis_points",
    "companion_reliability",
]

# For payments (a settlement locks the parties before it confirms the booking).
booking_lock_parties = locks.lock_booking_parties


# --- Request -----------------------------------------------------------------------------------------


def _validate_request(
    *, customer: User, profile: CompanionProfile, start: datetime, hours: int, activity: Activity, meeting_place: str
) -> None:
    if customer.role != Role.CUSTOMER or not customer.is_active:
        raise BookingError(_("Only customer accounts can book companions."))
    if profile.user_id == customer.pk:
        raise BookingError(_("You cannot book yourself."))
    if hours < profile.min_hours:
        raise BookingError(
            ngettext(
                "%(name)s takes bookings of at least %(count)d hour.",
                "%(name)s takes bookings of at least %(count)d hours.",
                profile.min_hours,
            )
            % {"name": profile, "count": profile.min_hours},
            field="hours",
        )
    if hours > profile.max_hours:
        raise BookingError(
            ngettext(
                "%(name)s takes bookings of at most %(count)d hour.",
                "%(name)s takes bookings of at most %(count)d hours.",
                profile.max_hours,
            )
            % {"name": profile, "count": profile.max_hours},
            field="hours",
        )
    if not profile.activities.filter(pk=activity.pk).exists():
        raise BookingError(_("Choose one of this companion's activities."), field="activity")
    if len(meeting_place.strip()) < 5:
        raise BookingError(
            _("Name the public place where you will meet (at least 5 characters)."), field="meeting_place"
        )
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")


def _taken() -> SlotTaken:
    return SlotTaken(_("That time was just taken. Please choose another time."))


def booking_time_refusal(
    *, profile: CompanionProfile, start: datetime, hours: int, now: datetime, viewer_zone: str
) -> BookingError:
    """Why [start, start + hours) is not a free start time of `profile` (call it only when it is not):
    the first reason the availability engine gives from the companion's schedule (TimeNotBookable, in
    the active language, times in the companion's zone with the viewer's beside them), or, when the
    schedule allows it, SlotTaken: another booking holds the time now. Needs `weekly_hours` and
    `time_off` prefetched to avoid queries (one query reads the held time)."""
    schedule = companion_selectors.schedule_for(profile, start=start, end=start, now=now)
    not_free = availability.why_not_free(schedule, start=start, duration=timedelta(hours=hours), now=now)
    if not_free is None:
        return _taken()
    return _not_bookable(profile, not_free, start=start, hours=hours, viewer_zone=viewer_zone)


def _zone_abbr(zone: str) -> str:
    return TIME_ZONE_ABBREVIATIONS.get(zone, zone)


def _not_bookable(
    profile: CompanionProfile, not_free: NotFree, *, start: datetime, hours: int, viewer_zone: str
) -> TimeNotBookable:
    language = get_language() or "id"
    zone = profile.time_zone

    def at(*moments: datetime) -> str:
        """A time or a range in the companion's zone, with the viewer's beside it when their zone
        differs: "19.00 WIB", "08.00–22.00 WIB (09.00–23.00 WITA)"."""

        def in_zone(name: str) -> str:
            times = (formatting.format_time(moment.astimezone(ZoneInfo(name)), language=language) for moment in moments)
            return f"{'–'.join(times)} {_zone_abbr(name)}"

        if viewer_zone and viewer_zone != zone:
            return f"{in_zone(zone)} ({in_zone(viewer_zone)})"
        return in_zone(zone)

    def when(moment: datetime) -> str:
        return formatting.format_datetime(moment, zone=viewer_zone or zone, language=language)

    def day(value) -> str:
        return formatting.format_date(value, language=language)

    reason = not_free.reason
    values: dict[str, object] = {"name": profile}
    if reason == Reason.TOO_SOON:
        message = _("Bookings with %(name)s must start at least %(notice)s from now, so from %(earliest)s.") % {
            **values,
            "notice": formatting.format_duration(profile.min_notice_minutes, language=language),
            "earliest": when(not_free.moment),
        }
    elif reason == Reason.TOO_FAR:
        message = ngettext(
            "That is too far ahead: %(name)s takes bookings up to %(count)d day ahead, until %(latest)s.",
            "That is too far ahead: %(name)s takes bookings up to %(count)d days ahead, until %(latest)s.",
            profile.horizon_days,
        ) % {**values, "count": profile.horizon_days, "latest": when(not_free.moment)}
    elif reason == Reason.OFF_GRID:
        before = availability.ceil_to_slot(start) - availability.SLOT_STEP
        message = _("Bookings start on the hour or half hour, such as %(before)s or %(after)s.") % {
            "before": at(before),
            "after": at(before + availability.SLOT_STEP),
        }
    elif reason == Reason.TIME_OFF:
        message = _("%(name)s is away on %(day)s. Please choose another day.") % {**values, "day": day(not_free.day)}
    elif reason == Reason.OUTSIDE_HOURS:
        if not_free.hours:
            ranges = ", ".join(at(range_start, range_end) for range_start, range_end in not_free.hours)
            message = _("%(time)s is outside %(name)s's hours. On %(day)s, %(name)s is available %(hours)s.") % {
                **values,
                "time": at(start),
                "day": day(not_free.day),
                "hours": ranges,
            }
        else:
            message = _("%(time)s is outside %(name)s's hours: %(name)s is not available on %(day)s.") % {
                **values,
                "time": at(start),
                "day": day(not_free.day),
            }
    else:  # Reason.RUNS_PAST_HOURS
        values["end"] = at(not_free.moment)
        fitting = int((not_free.moment - start) / timedelta(hours=1))
        if fitting >= profile.min_hours:
            message = ngettext(
                "The booking would run past %(name)s's hours, which end at %(end)s. "
                "Choose at most %(count)d hour or an earlier start.",
                "The booking would run past %(name)s's hours, which end at %(end)s. "
                "Choose at most %(count)d hours or an earlier start.",
                fitting,
            ) % {**values, "count": fitting}
        else:
            message = (
                _("The booking would run past %(name)s's hours, which end at %(end)s. Choose an earlier start.")
                % values
            )
    return TimeNotBookable(message, reason=reason)


def booking_request(
    *,
    customer: User,
    profile: CompanionProfile,
    start: datetime,
    hours: int,
    activity: Activity,
    meeting_place: str,
    note: str = "",
    promo_code: str = "",
    now: datetime | None = None,
) -> Booking:
    """A customer asks for [start, start + hours). Everything is checked again on the server: the start
    must be a free start time now (availability engine), inside the companion's limits; the companion
    must be listed. Instant-booking companions accept at once (the booking awaits payment).

    `promo_code` (or, without one, the welcome discount of a first booking) is reserved inside the same
    transaction through bookings/hooks.py `discount` (promotions): a code that does not apply, or whose
    last use or budget went to someone else a moment ago, refuses the request with a BookingError on the
    `promo_code` field and nothing is written. The discount is frozen into the price snapshot."""
    now = now or timezone.now()
    _validate_request(
        customer=customer, profile=profile, start=start, hours=hours, activity=activity, meeting_place=meeting_place
    )
    if blocks.between(customer.pk, profile.user_id):
        # Either blocked the other (accounts/blocks.py): the same answer both ways, saying no more.
        raise BookingError(_("You cannot send a request to this companion."))
    if start - now < MINIMUM_LEAD_TIME:
        # The answer deadline (start - 2 h) and the payment window must still lie ahead.
        raise TimeNotBookable(_("Bookings must start at least 3 hours from now."), reason="lead_time")
    end = start + timedelta(hours=hours)
    try:
        with transaction.atomic(durable=True):
            if settings.BOOKING_LOCKS:  # a test-only switch shows the race the locks prevent
                locked = locks.lock_parties(customer_id=customer.pk, companion_id=profile.pk)
            else:
                locked = profile
            if not (locked.is_listed and not locked.is_paused and locked.user.is_active):
                raise BookingError(_("This companion is not taking bookings right now."))
            if settings.BOOKING_LOCKS and not User.objects.filter(pk=customer.pk, is_active=True).exists():
                # Read again under the customer's lock: an account deleted (or suspended) meanwhile books nothing.
                raise BookingError(_("Only customer accounts can book companions."))
            # The exclusion constraint cannot look at the clock: overdue holds leave first.
            expire_overdue(now=now, companion=locked)
            expire_overdue(now=now, customer=customer)
            customer_holds = Booking.objects.filter(customer=customer).holding(now)
            open_requests = customer_holds.filter(status__in=OPEN_STATUSES).count()
            if open_requests >= MAX_OPEN_REQUESTS:
                raise BookingError(
                    _("You already have %(count)d open requests. Wait for an answer or withdraw one first.")
                    % {"count": open_requests}
                )
            if customer_holds.filter(start__lt=end, end__gt=start).exists():
                raise BookingError(_("You already have a booking at that time."))
            fresh = CompanionProfile.objects.prefetch_related("weekly_hours", "time_off").get(pk=profile.pk)
            free = companion_selectors.free_start_times(
                fresh, start=start, end=start + timedelta(microseconds=1), hours=hours, now=now
            )
            if start not in free:
                # Never free (the schedule says why) or held by another booking now (a lost race).
                raise booking_time_refusal(
                    profile=fresh, start=start, hours=hours, now=now, viewer_zone=customer.time_zone
                )
            booking = _create(
                customer=customer,
                profile=fresh,
                start=start,
                end=end,
                hours=hours,
                activity=activity,
                meeting_place=meeting_place,
                note=note,
                promo_code=promo_code,
                now=now,
            )
    except IntegrityError as error:
        # The exclusion constraint: a concurrent request won the same time (only reachable when the
        # lock is bypassed, or on a path that forgot it). Never a 500.
        raise _taken() from error
    except OperationalError as error:
        # A deadlock between concurrent inserts (without the locks): nothing was written; try again.
        raise BookingBusy(_("Many people are booking right now. Please try again in a moment.")) from error
    return booking


def _create(*, customer, profile, start, end, hours, activity, meeting_place, note, now, promo_code="") -> Booking:
    price = booking_quote(profile=profile, hours=hours, now=now)
    # A membership's part first (Plus: half the service fee), then promotions' part (a code, a voucher, the
    # welcome discount), which promotions caps within what the first part left of the platform's share.
    member = hooks.member_discount(customer=customer, price=price, now=now)
    if member is not None:
        price = with_discount(price, member.discount)
    reservation = hooks.discount(
        customer=customer,
        profile=profile,
        activity=activity,
        start=start,
        hours=hours,
        price=price,
        code=promo_code,
        now=now,
    )
    if reservation is not None and reservation.discount:
        price = with_discount(price, price.discount + reservation.discount)
    instant = profile.instant_booking
    booking = Booking.objects.create(
        customer=customer,
        companion=profile,
        start=start,
        end=end,
        hold_until=end + timedelta(minutes=profile.buffer_minutes),
        activity=activity,
        meeting_place=meeting_place.strip(),
        note=note.strip(),
        status=S.AWAITING_PAYMENT if instant else S.REQUESTED,
        hourly_rate=price.hourly_rate,
        hours=price.hours,
        subtotal=price.subtotal,
        service_fee=price.service_fee,
        discount=price.discount,
        total=price.total,
        commission_basis_points=price.commission_basis_points,
        commission=price.commission,
        companion_earnings=price.companion_earnings,
        response_deadline=rules.response_deadline(requested_at=now, start=start),
        payment_deadline=rules.payment_deadline(accepted_at=now, start=start) if instant else None,
        accepted_at=now if instant else None,
        complete_after=rules.complete_after(end=end),
        created_at=now,
    )
    BookingEvent.objects.create(
        booking=booking, actor=customer, from_status="", to_status=booking.status, created_at=now
    )
    if reservation is not None:
        reservation.attach(booking)
    if member is not None:
        member.attach(booking)
    hooks.requested(booking=booking)  # e.g. the booking's conversation opens with its note
    if instant:
        notify(booking, "booking_reserved", [customer], pay_by=booking.payment_deadline.isoformat())
        notify(booking, "booking_instant", [profile.user])
    else:
        notify(booking, "booking_requested", [profile.user])
    pages_changed(profile.slug)
    return booking


# --- The companion answers ---------------------------------------------------------------------------


def booking_accept(*, booking_id: int, actor: User, now: datetime | None = None) -> Booking:
    now = now or timezone.now()
    with transaction.atomic():
        booking = locks.lock_booking(booking_id=booking_id)
        if booking.status == S.AWAITING_PAYMENT:
            return booking
        rules.require(booking, actor, Action.ACCEPT, now)
        change_status(
            booking,
            to=S.AWAITING_PAYMENT,
            actor=actor,
            now=now,
            fields={
                "accepted_at": now,
                "payment_deadline": rules.payment_deadline(accepted_at=now, start=booking.start),
            },
        )
        notify(booking, "booking_accepted", [booking.customer], pay_by=booking.payment_deadline.isoformat())
    return booking


def booking_decline(*, booking_id: int, actor: User, reason: str = "", now: datetime | None = None) -> Booking:
    now = now or timezone.now()
    with transaction.atomic():
        booking = locks.lock_booking(booking_id=booking_id)
        if booking.status == S.DECLINED:
            return booking
        rules.require(booking, actor, Action.DECLINE, now)
        reason = reason.strip()
        # The reason is kept on the booking too: the customer's page shows why (the form says so).
        change_status(
            booking, to=S.DECLINED, actor=actor, now=now, reason=reason, fields={"reason": reason, "closed_at": now}
        )
        notify(booking, "booking_declined", [booking.customer])
    return booking


# --- The customer --------------------------------------------------------------------------------------


def booking_withdraw(*, booking_id: int, actor: User, reason: str = "", now: datetime | None = None) -> Booking:
    """The customer takes back a request (or an accepted booking before paying): no money has moved."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = locks.lock_booking(booking_id=booking_id)
        if booking.status == S.WITHDRAWN:
            return booking
        rules.require(booking, actor, Action.WITHDRAW, now)
        change_status(booking, to=S.WITHDRAWN, actor=actor, now=now, reason=reason.strip(), fields={"closed_at": now})
        notify(booking, "booking_withdrawn", [booking.companion.user])
    return booking


# --- Money arrives (called by payments) ----------------------------------------------------------------


def booking_mark_paid(*, booking_id: int, now: datetime | None = None) -> Booking:
    """Payment received for an accepted booking: called only by payments, once Midtrans (webhook or
    status API) says the money settled."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = locks.lock_booking(booking_id=booking_id)
        if booking.status == S.CONFIRMED:
            return booking
        refusal = rules.payment_open(booking, now)
        if refusal is not None:
            raise TransitionNotAllowed(refusal)
        change_status(booking, to=S.CONFIRMED, actor=None, now=now, fields={"paid_at": now})
        notify(booking, "booking_confirmed", [booking.customer, booking.companion.user])
    return booking


def booking_rehold(*, booking_id: int, now: datetime | None = None) -> bool:
    """A payment settled after the booking expired: the booking is confirmed after all if its slot
    is still free (no other booking holds the companion's or the customer's time, no time off, not
    started yet). False (nothing changed) otherwise: the payments flow then refunds the money."""
    now = now or timezone.now()
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or booking.status != S.EXPIRED or booking.start <= now:
        return False
    try:
        with transaction.atomic():
            companion = locks.lock_parties(customer_id=booking.customer_id, companion_id=booking.companion_id)
            booking = locks.lock_booking(booking_id=booking_id)
            if booking.status != S.EXPIRED:
                return False
            others = Booking.objects.exclude(pk=booking.pk).holding(now)
            companion_busy = others.filter(
                companion_id=booking.companion_id, start__lt=booking.hold_until, hold_until__gt=booking.start
            )
            customer_busy = others.filter(customer_id=booking.customer_id, start__lt=booking.end, end__gt=booking.start)
            zone = ZoneInfo(companion.time_zone)
            time_off = companion.time_off.filter(
                start_date__lte=booking.end.astimezone(zone).date(),
                end_date__gte=booking.start.astimezone(zone).date(),
            )
            if companion_busy.exists() or customer_busy.exists() or time_off.exists():
                return False
            change_status(
                booking,
                to=S.CONFIRMED,
                actor=None,
                now=now,
                reason="paid after the deadline; the time was still free",
                fields={"paid_at": now, "closed_at": None},
            )
            notify(booking, "booking_confirmed", [booking.customer, booking.companion.user])
    except IntegrityError:
        return False  # the exclusion constraint: someone holds the time after all
    return True


# --- Either party ------------------------------------------------------------------------------------


def booking_cancel(
    *, booking_id: int, actor: User, reason: str = "", now: datetime | None = None, for_safety: bool = False
) -> Booking:
    """Customer (once paid) or companion cancels before the start. The money follows bookings/policy.py;
    an unpaid (accepted) booking is simply cancelled by the companion (the customer withdraws it). A
    companion must give a reason: it counts against their reliability.

    `for_safety`: cancelled through a report about the other party (safety/reports.py): everything back to
    the customer, no reason asked, and never counted against the canceller's reliability or level."""
    now = now or timezone.now()
    reason = reason.strip()
    with transaction.atomic():
        booking = locks.lock_booking(booking_id=booking_id)
        if booking.status == S.CANCELLED:
            return booking
        rules.require(booking, actor, Action.CANCEL, now)
        if not for_safety and len(reason) < rules.cancel_reason_min_length(booking, actor):
            raise TransitionNotAllowed(
                _("Tell the customer why you cancel (at least %(count)d characters).")
                % {"count": rules.COMPANION_CANCEL_REASON_MIN_LENGTH},
                field="reason",
            )
        by = policy.cancelled_by(booking, actor)
        refund = earnings = 0
        if booking.status == S.CONFIRMED:  # money moved: settle it by the policy
            settlement = cancellation_preview(booking, by=by, now=now, for_safety=for_safety)
            refund, earnings = settlement.refund, settlement.companion_earnings
        change_status(
            booking,
            to=S.CANCELLED,
            actor=actor,
            now=now,
            reason=reason,
            fields={
                "refund_amount": refund,
                "settled_companion_earnings": earnings,
                "cancelled_by": by,
                "cancelled_for_safety": for_safety,
                "reason": reason,
                "closed_at": now,
            },
        )
        hooks.settled(booking=booking, kind=hooks.Settled.CANCELLED)
        notify(booking, "booking_cancelled", [booking.customer, booking.companion.user], refund=booking.refund_amount)
    return booking


def booking_dispute(*, booking_id: int, actor: User, reason: str, now: datetime | None = None) -> Booking:
    now = now or timezone.now()
    reason = reason.strip()
    with transaction.atomic():
        booking = locks.lock_booking(booking_id=booking_id)
        if booking.status == S.DISPUTED:
            return booking
        rules.require(booking, actor, Action.DISPUTE, now)
        if len(reason) < rules.DISPUTE_REASON_MIN_LENGTH:
            raise TransitionNotAllowed(
                _("Describe what happened (at least %(count)d characters).")
                % {"count": rules.DISPUTE_REASON_MIN_LENGTH},
                field="reason",
            )
        change_status(booking, to=S.DISPUTED, actor=actor, now=now, reason=reason)
        notify(booking, "booking_disputed", [booking.customer, booking.companion.user])
    return booking


# --- Staff -------------------------------------------------------------------------------------------


class Resolution:
    RELEASE = "release"  # the companion is paid as booked
    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    CHOICES = (RELEASE, FULL_REFUND, PARTIAL_REFUND)


def booking_resolve(
    *, booking_id: int, actor: User, decision: str, refund: int = 0, note: str = "", now: datetime | None = None
) -> Booking:
    """An admin decides a dispute: release to the companion, full refund, or a partial refund."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = locks.lock_booking(booking_id=booking_id)
        if booking.status == S.RESOLVED:
            return booking
        rules.require(booking, actor, Action.RESOLVE, now)
        if decision not in Resolution.CHOICES:
            raise TransitionNotAllowed(_("Unknown decision."), field="decision")
        if decision == Resolution.PARTIAL_REFUND and not 0 < refund < booking.total:
            raise TransitionNotAllowed(
                _("A partial refund must be more than Rp 0 and less than the total."), field="refund"
            )
        amount = {Resolution.RELEASE: 0, Resolution.FULL_REFUND: booking.total}.get(decision, refund)
        # The companion keeps their earnings on the part that was not refunded, in proportion.
        earnings = booking.companion_earnings * (booking.total - amount) // booking.total if booking.total else 0
        change_status(
            booking,
            to=S.RESOLVED,
            actor=actor,
            now=now,
            reason=f"{decision}: {note}".strip(" :"),
            fields={"refund_amount": amount, "settled_companion_earnings": earnings, "closed_at": now},
        )
        hooks.settled(booking=booking, kind=hooks.Settled.RESOLVED)
        notify(booking, "booking_resolved", [booking.customer, booking.companion.user], decision=decision)
    return booking


def booking_stop_for_moderation(
    *, booking_id: int, actor: User, suspended_id: int, now: datetime | None = None
) -> Booking | None:
    """Staff suspended or banned `suspended_id`, a party of this future booking (safety/moderation.py).
    Nothing was paid for a request (a suspended companion's is declined, a suspended customer's withdrawn)
    or an accepted booking (cancelled); a confirmed booking is cancelled with everything back to the
    customer, whichever side was suspended. Never counted against anyone's reliability or level. Returns the
    booking, or None when there was nothing to stop (already closed, or started: staff decide those)."""
    now = now or timezone.now()
    if not (actor.is_staff and actor.is_active):
        raise TransitionNotAllowed(_("Only staff can do this."))
    with transaction.atomic():
        booking = locks.lock_booking(booking_id=booking_id)
        if booking.start <= now or booking.status not in (S.REQUESTED, S.AWAITING_PAYMENT, S.CONFIRMED):
            return None
        companion_suspended = booking.companion.user_id == suspended_id
        other = booking.customer if companion_suspended else booking.companion.user
        if booking.status == S.REQUESTED:
            to = S.DECLINED if companion_suspended else S.WITHDRAWN
            change_status(booking, to=to, actor=actor, now=now, reason="suspended", fields={"closed_at": now})
        else:
            refund = booking.total if booking.status == S.CONFIRMED else 0
            change_status(
                booking,
                to=S.CANCELLED,
                actor=actor,
                now=now,
                reason="suspended",
                fields={
                    "refund_amount": refund,
                    "settled_companion_earnings": 0,
                    "cancelled_by": policy.CancelledBy.STAFF,
                    "cancelled_for_safety": True,
                    "closed_at": now,
                },
            )
            hooks.settled(booking=booking, kind=hooks.Settled.CANCELLED)
        event = "booking_stopped_customer" if other.pk == booking.customer_id else "booking_stopped_companion"
        notify(booking, event, [other], refund=booking.refund_amount or 0)
    return booking


# --- Calendar feed -----------------------------------------------------------------------------------


def calendar_feed_create(*, profile: CompanionProfile) -> CalendarFeed:
    """A new secret feed URL; an existing one is replaced (the old URL stops working)."""
    with transaction.atomic():
        # Locked: two clicks at once must not race to insert the one feed a profile may have.
        locks.lock_companion(companion_id=profile.pk)
        feed, _created = CalendarFeed.objects.update_or_create(
            profile=profile, defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()}
        )
    return feed


def calendar_feed_revoke(*, profile: CompanionProfile) -> None:
    CalendarFeed.objects.filter(profile=profile).delete()
