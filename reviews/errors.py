"""Errors whose messages are safe (and translated) to show users."""

from core.errors import UserFacingError


class ReviewError(UserFacingError):
    """Base of this app's errors: `message` is shown as it is, `field` names the form field (core/errors.py)."""


class ReviewNotAllowed(ReviewError):
    """This person may not write this review (or not now)."""
