"""Errors whose messages are safe (and translated) to show users."""

from core.errors import UserFacingError


class ChatError(UserFacingError):
    """Base of this app's errors: `message` is shown as it is, `field` names the form field (core/errors.py)."""
