"""Errors whose messages are safe (and translated) to show users."""

from core.errors import UserFacingError


class BookingError(UserFacingError):
    """Base of this app's errors: `message` is shown as it is, `field` names the form field (core/errors.py)."""


class SlotTaken(BookingError):
    """Someone else got the time first: it lies inside the companion's schedule, but another booking
    holds it now (or won it at the database's exclusion constraint)."""


class TimeNotBookable(BookingError):
    """The time was never free: the companion's schedule rules it out (`reason` is a
    `companions.availability.Reason`, or "lead_time" for the platform's minimum lead time)."""

    def __init__(self, message, *, reason: str, field: str | None = "start"):
        super().__init__(message, field=field)
        self.reason = reason


class BookingBusy(BookingError):
    """The companion's calendar is locked by another booking right now: try again in a moment."""


class TransitionNotAllowed(BookingError):
    pass
