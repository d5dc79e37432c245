"""Errors whose messages are safe (and translated) to show users."""


class BookingError(Exception):
    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class SlotTaken(BookingError):
    """Someone else got the time first (or it stopped being free)."""


class BookingBusy(BookingError):
    """The companion's calendar is locked by another booking right now: try again in a moment."""


class TransitionNotAllowed(BookingError):
    pass
