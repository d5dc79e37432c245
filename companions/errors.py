"""Errors whose messages are safe (and translated) to show users."""

from core.errors import UserFacingError


class CompanionError(UserFacingError):
    """Base of this app's errors: `message` is shown as it is, `field` names the form field (core/errors.py)."""


class PhotoRejected(CompanionError):
    pass


class VerificationError(CompanionError):
    pass


class ScheduleError(CompanionError):
    pass


class ProfileError(CompanionError):
    pass
