"""Who may do what to a booking, and when; and the deadlines. Written once, next to the transition table.

`available_actions(booking, user, now)` is the one answer to "may this person do this now?". The booking
page's buttons, the cancel and dispute pages and the services' checks all ask it, so a button shows
exactly when the service would accept the click (tests/bookings/test_rules.py holds them to it).

The deadline formulas (DESIGN.md section 3) and the rules on reasons are here too: the services store
the deadlines, the request page previews them, and both call the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from bookings.errors import TransitionNotAllowed
from bookings.models import ALLOWED_TRANSITIONS, Booking, BookingStatus

S = BookingStatus

RESPONSE_WINDOW = timedelta(hours=12)
RESPONSE_BEFORE_START = timedelta(hours=2)
PAYMENT_WINDOW = timedelta(hours=1)
PAYMENT_BEFORE_START = timedelta(hours=1)
DISPUTE_WINDOW = timedelta(hours=24)
# Keeps every deadline ahead of the request: answer by start − 2 h, then up to 1 h to pay.
MINIMUM_LEAD_TIME = timedelta(hours=3)
MAX_OPEN_REQUESTS = 3

# A companion who cancels tells the customer why (it counts against their reliability); a customer may
# say nothing. A dispute needs a description our team can act on.
COMPANION_CANCEL_REASON_MIN_LENGTH = 5
DISPUTE_REASON_MIN_LENGTH = 10


# --- Deadlines ---------------------------------------------------------------------------------------


def response_deadline(*, requested_at: datetime, start: datetime) -> datetime:
    """The companion answers within 12 hours, and at the latest 2 hours before the start."""
    return min(requested_at + RESPONSE_WINDOW, start - RESPONSE_BEFORE_START)


def payment_deadline(*, accepted_at: datetime, start: datetime) -> datetime:
    """The customer pays within 1 hour of the acceptance, and at the latest 1 hour before the start."""
    return min(accepted_at + PAYMENT_WINDOW, start - PAYMENT_BEFORE_START)


def complete_after(*, end: datetime) -> datetime:
    """Disputes stay possible until 24 hours after the end; then the booking completes."""
    return end + DISPUTE_WINDOW


# --- Who is who --------------------------------------------------------------------------------------


class Role:
    CUSTOMER = "customer"
    COMPANION = "companion"
    STAFF = "staff"
    NONE = ""


def role_of(booking: Booking, user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return Role.NONE
    if booking.customer_id == user.pk:
        return Role.CUSTOMER
    if booking.companion.user_id == user.pk:
        return Role.COMPANION
    if user.is_staff and user.is_active:
        return Role.STAFF
    return Role.NONE


def cancel_reason_min_length(booking: Booking, user) -> int:
    """How long a cancellation reason must be: only a companion must give one."""
    return COMPANION_CANCEL_REASON_MIN_LENGTH if role_of(booking, user) == Role.COMPANION else 0


# --- Actions -----------------------------------------------------------------------------------------


class Action:
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    PAY = "pay"
    CANCEL = "cancel"
    DISPUTE = "dispute"
    RESOLVE = "resolve"
    ALL = (ACCEPT, DECLINE, WITHDRAW, PAY, CANCEL, DISPUTE, RESOLVE)


# The status each action leads to (checked against ALLOWED_TRANSITIONS).
TARGET = {
    Action.ACCEPT: S.AWAITING_PAYMENT,
    Action.DECLINE: S.DECLINED,
    Action.WITHDRAW: S.WITHDRAWN,
    Action.PAY: S.CONFIRMED,
    Action.CANCEL: S.CANCELLED,
    Action.DISPUTE: S.DISPUTED,
    Action.RESOLVE: S.RESOLVED,
}


@dataclass(frozen=True)
class Actions:
    """What `user` may do to a booking at a moment: `allowed` action names, and for each refused action
    the (translated) reason, as the service would say it."""

    allowed: frozenset[str]
    refused: dict[str, str] = field(default_factory=dict)

    def __contains__(self, action: str) -> bool:
        return action in self.allowed

    def reason(self, action: str) -> str:
        return self.refused.get(action, "")


def _wrong_state() -> str:
    return _("This booking can no longer be changed that way.")


def _refusal(action: str, booking: Booking, role: str, now: datetime) -> str | None:
    """Why `action` is refused (None: allowed). The order is the services' order: the state first (the
    transition table), then who acts, then the clock."""
    status = booking.status
    if TARGET[action] not in ALLOWED_TRANSITIONS.get(status, set()):
        return _wrong_state()
    if action == Action.PAY and status != S.AWAITING_PAYMENT:
        # An expired booking comes back only through the re-hold of a late payment (payments).
        return _("This booking can no longer be paid.")
    if action == Action.ACCEPT:
        if role != Role.COMPANION:
            return _("Only the companion can accept this request.")
        if now >= booking.response_deadline:
            return _("The time to answer this request has passed.")
    elif action == Action.DECLINE:
        if role != Role.COMPANION:
            return _("Only the companion can decline this request.")
    elif action == Action.WITHDRAW:
        if role != Role.CUSTOMER:
            return _("Only the customer can withdraw this request.")
    elif action == Action.PAY:
        if role != Role.CUSTOMER:
            return _("Only the customer can pay for this booking.")
        if booking.payment_deadline is None or now >= booking.payment_deadline:
            return _("The time to pay for this booking has passed.")
    elif action == Action.CANCEL:
        if role not in (Role.CUSTOMER, Role.COMPANION):
            return _("Only the customer or the companion can cancel this booking.")
        if role == Role.CUSTOMER and status == S.AWAITING_PAYMENT:
            # Nothing is paid yet: withdrawing is the customer's one way out (the page offers only it).
            return _("Nothing has been paid yet: withdraw the booking instead.")
        if now >= booking.start:
            return _("The booking has started: open a dispute if something went wrong.")
    elif action == Action.DISPUTE:
        if role not in (Role.CUSTOMER, Role.COMPANION):
            return _("Only the customer or the companion can open a dispute.")
        # Before the start there is nothing to dispute: cancelling (with its policy) is the way out.
        if now < booking.start:
            return _("A dispute can be opened once the booking has started.")
        if now >= booking.complete_after:
            return _("Disputes can be opened until 24 hours after the end.")
    elif action == Action.RESOLVE:
        if role != Role.STAFF:
            return _("Only staff can resolve disputes.")
    return None


def available_actions(booking: Booking, user, now: datetime) -> Actions:
    """Every action `user` may take on `booking` at `now`, with the reason for each refused one."""
    role = role_of(booking, user)
    allowed, refused = set(), {}
    for action in Action.ALL:
        reason = _refusal(action, booking, role, now)
        if reason is None:
            allowed.add(action)
        else:
            refused[action] = reason
    return Actions(allowed=frozenset(allowed), refused=refused)


def payment_open(booking: Booking, now: datetime) -> str | None:
    """For the money arriving (no user acts): None when the booking can take a payment now, else why not."""
    if TARGET[Action.PAY] not in ALLOWED_TRANSITIONS.get(booking.status, set()):
        return _wrong_state()
    if booking.status != S.AWAITING_PAYMENT:
        return _("This booking can no longer be paid.")
    if booking.payment_deadline is None or now >= booking.payment_deadline:
        return _("The time to pay for this booking has passed.")
    return None


def require(booking: Booking, user, action: str, now: datetime) -> None:
    """Raises TransitionNotAllowed with the reason when `user` may not take `action` now. Call under the
    booking's lock, after returning early if the booking is already where the action leads."""
    reason = _refusal(action, booking, role_of(booking, user), now)
    if reason is not None:
        raise TransitionNotAllowed(reason)
