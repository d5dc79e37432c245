"""Booking actions: one function per thing a customer, companion, admin or the clock does.

Every transition goes through `_transition`: it locks the row, returns early if the booking is
already where it should go (so a repeated click or a sweep running twice changes nothing), checks
the move against ALLOWED_TRANSITIONS and the actor, writes with a conditional update, records a
BookingEvent and the notifications in the same transaction, and invalidates cached pages after commit.
"""

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from bookings import policy
from bookings.errors import BookingBusy, BookingError, SlotTaken, TransitionNotAllowed
from bookings.models import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    CalendarFeed,
)
from bookings.pricing import PriceSnapshot, compute_price
from companions import page_cache
from companions import selectors as companion_selectors
from companions.models import Activity, CompanionProfile
from notifications.services import notification_record
from payments import settlement as payment_settlement

RESPONSE_WINDOW = timedelta(hours=12)
RESPONSE_BEFORE_START = timedelta(hours=2)
PAYMENT_WINDOW = timedelta(hours=1)
PAYMENT_BEFORE_START = timedelta(hours=1)
DISPUTE_WINDOW = timedelta(hours=24)
MAX_OPEN_REQUESTS = 3
# Keeps every deadline ahead of the request: answer by start − 2 h, then up to 1 h to pay.
MINIMUM_LEAD_TIME = timedelta(hours=3)


def commission_basis_points(profile: CompanionProfile) -> int:
    """The platform's share of the subtotal. A setting for now; the levels issue makes it depend on
    the companion's level."""
    return settings.BOOKING_COMMISSION_BASIS_POINTS


def booking_quote(*, profile: CompanionProfile, hours: int) -> PriceSnapshot:
    return compute_price(
        hourly_rate=profile.hourly_rate, hours=hours, commission_basis_points=commission_basis_points(profile)
    )


def holding_q(now: datetime, prefix: str = "") -> Q:
    """Bookings that hold time at `now`: requested/awaiting payment only until their deadlines."""
    return (
        Q(**{f"{prefix}status": BookingStatus.REQUESTED, f"{prefix}response_deadline__gt": now})
        | Q(**{f"{prefix}status": BookingStatus.AWAITING_PAYMENT, f"{prefix}payment_deadline__gt": now})
        | Q(**{f"{prefix}status__in": (BookingStatus.CONFIRMED, BookingStatus.DISPUTED)})
    )


def _lock(*, profile_id: int, customer_id: int) -> CompanionProfile:
    """Row locks, customer first then companion (one order everywhere, so no deadlock), with a short
    lock timeout: waiting long is worse than a clear "try again"."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{settings.BOOKING_LOCK_TIMEOUT_MS}ms"])
    try:
        User.objects.select_for_update().filter(pk=customer_id).first()
        return (
            CompanionProfile.objects.select_for_update(of=("self",)).select_related("user", "city").get(pk=profile_id)
        )
    except OperationalError as error:
        raise BookingBusy(_("Many people are booking right now. Please try again in a moment.")) from error


def booking_lock_parties(*, booking_id: int) -> None:
    """Locks the booking's customer and companion rows, in the one order every booking path uses
    (customer, companion, then the booking), for callers about to change the booking from outside
    (a payment settling). Call inside a transaction."""
    parties = Booking.objects.filter(pk=booking_id).values_list("customer_id", "companion_id").first()
    if parties is not None:
        _lock(customer_id=parties[0], profile_id=parties[1])


def _expire_overdue(*, now: datetime, **scope) -> None:
    """Moves this companion's or customer's holds past their deadline out of the way (before an insert
    the exclusion constraint would otherwise count them)."""
    overdue = Booking.objects.filter(**scope).filter(
        Q(status=BookingStatus.REQUESTED, response_deadline__lte=now)
        | Q(status=BookingStatus.AWAITING_PAYMENT, payment_deadline__lte=now)
    )
    for booking_id in overdue.values_list("pk", flat=True):
        _apply_deadline(booking_id, now=now)


def _validate_request(
    *, customer: User, profile: CompanionProfile, start: datetime, hours: int, activity: Activity, meeting_place: str
) -> None:
    if customer.role != Role.CUSTOMER or not customer.is_active:
        raise BookingError(_("Only customer accounts can book companions."))
    if profile.user_id == customer.pk:
        raise BookingError(_("You cannot book yourself."))
    if not (profile.min_hours <= hours <= profile.max_hours):
        raise BookingError(
            _("Choose between %(min)d and %(max)d hours.") % {"min": profile.min_hours, "max": profile.max_hours},
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


def booking_request(
    *,
    customer: User,
    profile: CompanionProfile,
    start: datetime,
    hours: int,
    activity: Activity,
    meeting_place: str,
    note: str = "",
    now: datetime | None = None,
) -> Booking:
    """A customer asks for [start, start + hours). Everything is checked again on the server: the start
    must be a free start time now (availability engine), inside the companion's limits; the companion
    must be listed. Instant-booking companions accept at once."""
    now = now or timezone.now()
    _validate_request(
        customer=customer, profile=profile, start=start, hours=hours, activity=activity, meeting_place=meeting_place
    )
    if start - now < MINIMUM_LEAD_TIME:
        # The answer deadline (start - 2 h) and the payment window must still lie ahead.
        raise BookingError(_("Bookings must start at least 3 hours from now."))
    try:
        with transaction.atomic(durable=True):
            locked = _lock(profile_id=profile.pk, customer_id=customer.pk) if settings.BOOKING_LOCKS else profile
            if not (locked.is_listed and not locked.is_paused and locked.user.is_active):
                raise BookingError(_("This companion is not taking bookings right now."))
            _expire_overdue(now=now, companion=locked)
            _expire_overdue(now=now, customer=customer)
            open_requests = (
                Booking.objects.filter(customer=customer).filter(holding_q(now), status__in=OPEN_STATUSES).count()
            )
            if open_requests >= MAX_OPEN_REQUESTS:
                raise BookingError(
                    _("You already have %(count)d open requests. Wait for an answer or withdraw one first.")
                    % {"count": open_requests}
                )
            end = start + timedelta(hours=hours)
            overlapping = Booking.objects.filter(customer=customer, start__lt=end, end__gt=start).filter(holding_q(now))
            if overlapping.exists():
                raise BookingError(_("You already have a booking at that time."))
            fresh = CompanionProfile.objects.prefetch_related("weekly_hours", "time_off").get(pk=profile.pk)
            free = companion_selectors.free_start_times(
                fresh, start=start, end=start + timedelta(microseconds=1), hours=hours, now=now
            )
            if start not in free:
                raise SlotTaken(_("That time was just taken or is no longer free. Please choose another time."))
            booking = _create(
                customer=customer,
                profile=fresh,
                start=start,
                end=end,
                hours=hours,
                activity=activity,
                meeting_place=meeting_place,
                note=note,
                now=now,
            )
    except IntegrityError as error:
        # The exclusion constraint: a concurrent request won the same time (only reachable when the
        # lock is bypassed, or on a path that forgot it). Never a 500.
        raise SlotTaken(_("That time was just taken or is no longer free. Please choose another time.")) from error
    except OperationalError as error:
        # Lock timeout or a deadlock between concurrent inserts: nothing was written; try again.
        raise BookingBusy(_("Many people are booking right now. Please try again in a moment.")) from error
    return booking


def _create(*, customer, profile, start, end, hours, activity, meeting_place, note, now) -> Booking:
    price = booking_quote(profile=profile, hours=hours)
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
        status=BookingStatus.AWAITING_PAYMENT if instant else BookingStatus.REQUESTED,
        hourly_rate=price.hourly_rate,
        hours=price.hours,
        subtotal=price.subtotal,
        service_fee=price.service_fee,
        discount=price.discount,
        total=price.total,
        commission_basis_points=price.commission_basis_points,
        commission=price.commission,
        companion_earnings=price.companion_earnings,
        response_deadline=min(now + RESPONSE_WINDOW, start - RESPONSE_BEFORE_START),
        payment_deadline=min(now + PAYMENT_WINDOW, start - PAYMENT_BEFORE_START) if instant else None,
        accepted_at=now if instant else None,
        complete_after=end + DISPUTE_WINDOW,
        created_at=now,
    )
    BookingEvent.objects.create(
        booking=booking, actor=customer, from_status="", to_status=booking.status, created_at=now
    )
    if instant:
        _notify(booking, "booking_accepted", [customer])
        _notify(booking, "booking_instant", [profile.user])
    else:
        _notify(booking, "booking_requested", [profile.user])
    page_cache.profile_changed(profile.slug)
    return booking


def _notify(booking: Booking, event: str, recipients: list[User], **extra) -> None:
    context = {"reference": booking.reference, "start": booking.start.astimezone(UTC).isoformat(), **extra}
    for recipient in recipients:
        notification_record(recipient=recipient, event=event, context=context)


# --- Transitions ------------------------------------------------------------------------------------


def _transition(
    booking_id: int,
    *,
    to: str,
    actor: User | None,
    reason: str = "",
    now: datetime,
    check: Callable[[Booking], None] | None = None,
    fields: Callable[[Booking], dict] | None = None,
) -> tuple[Booking, bool]:
    """The one way a booking changes status; returns (booking, changed). Under the row lock:
    `check(booking)` raises if this actor may not do it now; `fields(booking)` gives what else to
    write (e.g. the settlement). A booking already in `to` is returned unchanged (changed=False)."""
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("companion", "companion__user", "customer")
            .get(pk=booking_id)
        )
        if booking.status == to:
            return booking, False
        if to not in ALLOWED_TRANSITIONS.get(booking.status, set()):
            raise TransitionNotAllowed(_("This booking can no longer be changed that way."))
        if check is not None:
            check(booking)
        previous = booking.status
        updates = {"status": to, **(fields(booking) if fields else {})}
        changed = Booking.objects.filter(pk=booking.pk, status=previous).update(**updates)
        if changed != 1:  # cannot happen under the row lock; the last line of defence
            raise TransitionNotAllowed(_("This booking changed in the meantime. Reload the page."))
        for name, value in updates.items():
            setattr(booking, name, value)
        BookingEvent.objects.create(
            booking=booking, actor=actor, from_status=previous, to_status=to, reason=reason, created_at=now
        )
        if previous == BookingStatus.AWAITING_PAYMENT and to != BookingStatus.CONFIRMED:
            payment_settlement.booking_left_unpaid(booking=booking)
        page_cache.profile_changed(booking.companion.slug)
        return booking, True


def _require(condition: bool, message) -> None:
    if not condition:
        raise TransitionNotAllowed(message)


def _is_companion(booking: Booking, user: User | None) -> bool:
    return user is not None and booking.companion.user_id == user.pk


def _is_customer(booking: Booking, user: User | None) -> bool:
    return user is not None and booking.customer_id == user.pk


def booking_accept(*, booking_id: int, actor: User, now: datetime | None = None) -> Booking:
    now = now or timezone.now()

    def check(booking: Booking) -> None:
        _require(_is_companion(booking, actor), _("Only the companion can accept this request."))
        _require(now < booking.response_deadline, _("The time to answer this request has passed."))

    def fields(booking: Booking) -> dict:
        return {"accepted_at": now, "payment_deadline": min(now + PAYMENT_WINDOW, booking.start - PAYMENT_BEFORE_START)}

    with transaction.atomic():
        booking, changed = _transition(
            booking_id, to=BookingStatus.AWAITING_PAYMENT, actor=actor, now=now, check=check, fields=fields
        )
        if changed:
            _notify(booking, "booking_accepted", [booking.customer], pay_by=booking.payment_deadline.isoformat())
    return booking


def _move(
    booking_id: int,
    *,
    to: str,
    actor: User | None,
    now: datetime,
    event: str,
    recipients: Callable[[Booking], list[User]],
    reason: str = "",
    check: Callable[[Booking], None] | None = None,
    fields: Callable[[Booking], dict] | None = None,
    **notify_extra,
) -> Booking:
    """A transition plus its notifications, recorded only when the transition really happened."""
    with transaction.atomic():
        booking, changed = _transition(
            booking_id, to=to, actor=actor, reason=reason, now=now, check=check, fields=fields
        )
        if changed:
            _notify(booking, event, recipients(booking), **notify_extra)
    return booking


def booking_decline(*, booking_id: int, actor: User, reason: str = "", now: datetime | None = None) -> Booking:
    now = now or timezone.now()

    def check(booking: Booking) -> None:
        _require(_is_companion(booking, actor), _("Only the companion can decline this request."))

    return _move(
        booking_id,
        to=BookingStatus.DECLINED,
        actor=actor,
        now=now,
        reason=reason.strip(),
        check=check,
        fields=lambda booking: {"closed_at": now},
        event="booking_declined",
        recipients=lambda booking: [booking.customer],
    )


def booking_withdraw(*, booking_id: int, actor: User, reason: str = "", now: datetime | None = None) -> Booking:
    """The customer takes back a request (or an accepted booking before paying): no money has moved."""
    now = now or timezone.now()

    def check(booking: Booking) -> None:
        _require(_is_customer(booking, actor), _("Only the customer can withdraw this request."))

    return _move(
        booking_id,
        to=BookingStatus.WITHDRAWN,
        actor=actor,
        now=now,
        reason=reason.strip(),
        check=check,
        fields=lambda booking: {"closed_at": now},
        event="booking_withdrawn",
        recipients=lambda booking: [booking.companion.user],
    )


def booking_mark_paid(*, booking_id: int, now: datetime | None = None) -> Booking:
    """Payment received for an accepted booking: called only by payments, once Midtrans (webhook or
    status API) says the money settled."""
    now = now or timezone.now()

    def check(booking: Booking) -> None:
        # An expired booking comes back only through booking_rehold (which checks the time is free).
        _require(booking.status == BookingStatus.AWAITING_PAYMENT, _("This booking can no longer be paid."))
        _require(
            booking.payment_deadline is not None and now < booking.payment_deadline,
            _("The time to pay for this booking has passed."),
        )

    return _move(
        booking_id,
        to=BookingStatus.CONFIRMED,
        actor=None,
        now=now,
        check=check,
        fields=lambda booking: {"paid_at": now},
        event="booking_confirmed",
        recipients=lambda booking: [booking.customer, booking.companion.user],
    )


def booking_rehold(*, booking_id: int, now: datetime | None = None) -> bool:
    """A payment settled after the booking expired: the booking is confirmed after all if its slot
    is still free (no other booking holds the companion's or the customer's time, no time off, not
    started yet). False (nothing changed) otherwise: the payments flow then refunds the money."""
    now = now or timezone.now()
    booking = Booking.objects.select_related("companion__city", "companion__user").get(pk=booking_id)
    if booking.status != BookingStatus.EXPIRED or booking.start <= now:
        return False
    try:
        with transaction.atomic():
            _lock(profile_id=booking.companion_id, customer_id=booking.customer_id)
            others = Booking.objects.exclude(pk=booking.pk).filter(holding_q(now))
            companion_busy = others.filter(
                companion_id=booking.companion_id, start__lt=booking.hold_until, hold_until__gt=booking.start
            )
            customer_busy = others.filter(customer_id=booking.customer_id, start__lt=booking.end, end__gt=booking.start)
            zone = ZoneInfo(booking.companion.time_zone)
            time_off = booking.companion.time_off.filter(
                start_date__lte=booking.end.astimezone(zone).date(),
                end_date__gte=booking.start.astimezone(zone).date(),
            )
            if companion_busy.exists() or customer_busy.exists() or time_off.exists():
                return False
            _move(
                booking_id,
                to=BookingStatus.CONFIRMED,
                actor=None,
                now=now,
                reason="paid after the deadline; the time was still free",
                fields=lambda booking: {"paid_at": now, "closed_at": None},
                event="booking_confirmed",
                recipients=lambda booking: [booking.customer, booking.companion.user],
            )
    except IntegrityError:
        return False  # the exclusion constraint: someone holds the time after all
    return True


def cancellation_preview(booking: Booking, *, by: str, now: datetime | None = None) -> policy.Settlement:
    return policy.settle_cancellation(
        total=booking.total,
        subtotal=booking.subtotal,
        service_fee=booking.service_fee,
        commission_basis_points=booking.commission_basis_points,
        start=booking.start,
        cancelled_at=now or timezone.now(),
        cancelled_by=by,
    )


def booking_cancel(*, booking_id: int, actor: User, reason: str = "", now: datetime | None = None) -> Booking:
    """Customer or companion cancels before the start. The money follows bookings/policy.py; an unpaid
    (accepted) booking is simply cancelled. A companion must give a reason: it counts against their
    reliability."""
    now = now or timezone.now()
    reason = reason.strip()

    def cancelled_by(booking: Booking) -> str:
        return policy.CancelledBy.COMPANION if _is_companion(booking, actor) else policy.CancelledBy.CUSTOMER

    def check(booking: Booking) -> None:
        _require(
            _is_customer(booking, actor) or _is_companion(booking, actor),
            _("Only the customer or the companion can cancel this booking."),
        )
        _require(now < booking.start, _("The booking has started: open a dispute if something went wrong."))
        if _is_companion(booking, actor):
            _require(len(reason) >= 5, _("Tell the customer why you cancel (at least 5 characters)."))

    def fields(booking: Booking) -> dict:
        by = cancelled_by(booking)
        refund = earnings = 0
        if booking.status == BookingStatus.CONFIRMED:  # money moved: settle it by the policy
            settlement = cancellation_preview(booking, by=by, now=now)
            refund, earnings = settlement.refund, settlement.companion_earnings
        return {
            "refund_amount": refund,
            "settled_companion_earnings": earnings,
            "cancelled_by": by,
            "reason": reason,
            "closed_at": now,
        }

    with transaction.atomic():
        booking, changed = _transition(
            booking_id, to=BookingStatus.CANCELLED, actor=actor, reason=reason, now=now, check=check, fields=fields
        )
        if changed:
            payment_settlement.booking_settle(booking=booking, kind=payment_settlement.CANCELLED)
            _notify(
                booking, "booking_cancelled", [booking.customer, booking.companion.user], refund=booking.refund_amount
            )
    return booking


def booking_dispute(*, booking_id: int, actor: User, reason: str, now: datetime | None = None) -> Booking:
    now = now or timezone.now()
    reason = reason.strip()

    def check(booking: Booking) -> None:
        _require(
            _is_customer(booking, actor) or _is_companion(booking, actor),
            _("Only the customer or the companion can open a dispute."),
        )
        # Before the start there is nothing to dispute: cancelling (with its policy) is the way out.
        _require(now >= booking.start, _("A dispute can be opened once the booking has started."))
        _require(now < booking.complete_after, _("Disputes can be opened until 24 hours after the end."))
        _require(len(reason) >= 10, _("Describe what happened (at least 10 characters)."))

    return _move(
        booking_id,
        to=BookingStatus.DISPUTED,
        actor=actor,
        now=now,
        reason=reason,
        check=check,
        event="booking_disputed",
        recipients=lambda booking: [booking.customer, booking.companion.user],
    )


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

    def refund_for(booking: Booking) -> int:
        return {Resolution.RELEASE: 0, Resolution.FULL_REFUND: booking.total}.get(decision, refund)

    def check(booking: Booking) -> None:
        _require(actor is not None and actor.is_staff and actor.is_active, _("Only staff can resolve disputes."))
        _require(decision in Resolution.CHOICES, _("Unknown decision."))
        if decision == Resolution.PARTIAL_REFUND:
            _require(0 < refund < booking.total, _("A partial refund must be more than Rp 0 and less than the total."))

    def fields(booking: Booking) -> dict:
        amount = refund_for(booking)
        # The companion keeps their earnings on the part that was not refunded, in proportion.
        earnings = booking.companion_earnings * (booking.total - amount) // booking.total if booking.total else 0
        return {"refund_amount": amount, "settled_companion_earnings": earnings, "closed_at": now}

    with transaction.atomic():
        booking, changed = _transition(
            booking_id,
            to=BookingStatus.RESOLVED,
            actor=actor,
            reason=f"{decision}: {note}".strip(" :"),
            now=now,
            check=check,
            fields=fields,
        )
        if changed:
            payment_settlement.booking_settle(booking=booking, kind=payment_settlement.RESOLVED)
            _notify(booking, "booking_resolved", [booking.customer, booking.companion.user], decision=decision)
    return booking


# --- The clock ---------------------------------------------------------------------------------------


DEADLINE_MOVES = {
    # status: (deadline field, new status, reason, notification)
    BookingStatus.REQUESTED: (
        "response_deadline",
        BookingStatus.DECLINED,
        "no answer before the deadline",
        "booking_expired_unanswered",
    ),
    BookingStatus.AWAITING_PAYMENT: (
        "payment_deadline",
        BookingStatus.EXPIRED,
        "not paid before the deadline",
        "booking_expired_unpaid",
    ),
    BookingStatus.CONFIRMED: (
        "complete_after",
        BookingStatus.COMPLETED,
        "ended without a dispute",
        "booking_completed",
    ),
}


def _apply_deadline(booking_id: int, *, now: datetime) -> bool:
    """Applies the deadline that has passed for one booking, if any; True if it changed something."""
    status = Booking.objects.filter(pk=booking_id).values_list("status", flat=True).first()
    if status not in DEADLINE_MOVES:
        return False
    deadline_field, to, reason, event = DEADLINE_MOVES[status]

    def check(booking: Booking) -> None:
        deadline = getattr(booking, deadline_field)
        _require(deadline is not None and deadline <= now, "deadline not reached")

    with transaction.atomic():
        try:
            booking, changed = _transition(
                booking_id,
                to=to,
                actor=None,
                reason=reason,
                now=now,
                check=check,
                fields=lambda booking: {"closed_at": now},
            )
        except TransitionNotAllowed:
            return False  # it moved on (accepted, paid, disputed) since we looked: nothing to do
        if changed:
            if to == BookingStatus.COMPLETED:  # escrow released: earnings to the companion
                payment_settlement.booking_settle(booking=booking, kind=payment_settlement.COMPLETED)
            _notify(booking, event, [booking.customer, booking.companion.user])
    return changed


def bookings_sweep(*, now: datetime | None = None) -> int:
    """Declines unanswered requests, expires unpaid bookings, completes ended ones. Idempotent; each
    booking in its own transaction, so one failure does not hold back the rest."""
    now = now or timezone.now()
    due = Booking.objects.filter(
        Q(status=BookingStatus.REQUESTED, response_deadline__lte=now)
        | Q(status=BookingStatus.AWAITING_PAYMENT, payment_deadline__lte=now)
        | Q(status=BookingStatus.CONFIRMED, complete_after__lte=now)
    )
    changed = 0
    for booking_id in due.values_list("pk", flat=True).iterator():
        changed += _apply_deadline(booking_id, now=now)
    return changed


def companion_reliability(profile: CompanionProfile) -> dict:
    """Cancellations by the companion count against them (shown to customers and admins)."""
    confirmed_or_after = Booking.objects.filter(companion=profile, paid_at__isnull=False)
    cancelled = confirmed_or_after.filter(status=BookingStatus.CANCELLED, cancelled_by=policy.CancelledBy.COMPANION)
    return {"paid_bookings": confirmed_or_after.count(), "companion_cancellations": cancelled.count()}


def booking_apply_deadline(*, booking_id: int, now: datetime | None = None) -> bool:
    """For pages: apply a passed deadline now instead of waiting for the sweep (idempotent)."""
    return _apply_deadline(booking_id, now=now or timezone.now())


# --- Calendar feed ------------------------------------------------------------------------------------


def calendar_feed_create(*, profile: CompanionProfile) -> CalendarFeed:
    """A new secret feed URL; an existing one is replaced (the old URL stops working)."""
    with transaction.atomic():
        # Locked: two clicks at once must not race to insert the one feed a profile may have.
        CompanionProfile.objects.select_for_update().filter(pk=profile.pk).first()
        feed, _created = CalendarFeed.objects.update_or_create(
            profile=profile, defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()}
        )
    return feed


def calendar_feed_revoke(*, profile: CompanionProfile) -> None:
    CalendarFeed.objects.filter(profile=profile).delete()
