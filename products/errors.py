"""Errors whose messages are safe (and translated) to show users."""

from core.errors import UserFacingError


class ProductError(UserFacingError):
    """A purchase cannot be made or changed (not eligible, not on sale, ...): `message` says why (core/errors.py)."""
