"""Errors whose messages are safe (and translated) to show users."""

from core.errors import UserFacingError


class BookingError(UserFacingError):
    """Base of this app's errors: `message` is shown as it is, `field` names the form field (core/errors.py)."""


class SlotTaken(BookingError):
    """Someone else got the time first (or it stopped being free)."""


class BookingBusy(BookingError):
    """The companion's calendar is locked by another booking right now: try again in a moment."""


class TransitionNotAllowed(BookingError):
    pass
