"""Errors whose messages are safe (and translated) to show users."""


class CompanionError(Exception):
    """Base: `message` is shown to the user as it is; `field` names the form field, if any."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class PhotoRejected(CompanionError):
    pass


class VerificationError(CompanionError):
    pass


class ScheduleError(CompanionError):
    pass


class ProfileError(CompanionError):
    pass
