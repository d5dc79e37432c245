"""The small steps every booking action shares: the conditional status write with its audit row, the
notifications, and the cached pages to refresh after commit. The actions themselves (services.py,
deadlines.py) read straight down: lock, return early if already done, check, change, notify."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from bookings import hooks
from bookings.errors import TransitionNotAllowed
from bookings.models import ALLOWED_TRANSITIONS, Booking, BookingEvent, BookingStatus
from companions import page_cache
from notifications.services import notification_record

logger = logging.getLogger(__name__)


def change_status(
    booking: Booking, *, to: str, actor: User | None, now: datetime, reason: str = "", fields: dict | None = None
) -> Booking:
    """Moves the locked `booking` to `to`, writing `fields` with it, and records the BookingEvent (with
    `reason`, which the booking's own `reason` field stores only when `fields` says so).

    Precondition: inside transaction.atomic(), holding the booking's lock (bookings/locks.py), after the
    caller returned early for a booking already in `to` and checked the actor (bookings/rules.py)."""
    previous = booking.status
    if to not in ALLOWED_TRANSITIONS.get(previous, set()):
        raise TransitionNotAllowed(_("This booking can no longer be changed that way."))
    updates = {"status": to, **(fields or {})}
    # WHERE status = previous: the last line of defence (the row lock already rules out a change).
    if Booking.objects.filter(pk=booking.pk, status=previous).update(**updates) != 1:
        raise TransitionNotAllowed(_("This booking changed in the meantime. Reload the page."))
    for name, value in updates.items():
        setattr(booking, name, value)
    BookingEvent.objects.create(
        booking=booking, actor=actor, from_status=previous, to_status=to, reason=reason, created_at=now
    )
    if previous == BookingStatus.AWAITING_PAYMENT and to != BookingStatus.CONFIRMED:
        hooks.left_unpaid(booking=booking)  # e.g. payments closes the open checkouts
    hooks.status_changed(booking=booking, previous=previous, to=to)  # e.g. promotions releases a discount
    pages_changed(booking.companion.slug)
    return booking


def notify(booking: Booking, event: str, recipients: list[User], **extra) -> None:
    """Records the notifications in the caller's transaction (the outbox sends them after commit)."""
    context = {"reference": booking.reference, "start": booking.start.astimezone(UTC).isoformat(), **extra}
    for recipient in recipients:
        notification_record(recipient=recipient, event=event, context=context)


def _bump_pages(slug: str) -> None:
    # Runs after commit, outside any transaction, so profile_changed bumps at once.
    page_cache.profile_changed(slug)


def pages_changed(slug: str) -> None:
    """The companion's cached profile and search pages are stale once this transaction commits. The bump
    runs after commit and is robust: a cache outage is logged and never turns a committed booking into
    an error page (the cached pages then expire by themselves)."""
    transaction.on_commit(lambda: _bump_pages(slug), robust=True)
