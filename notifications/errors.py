from core.errors import UserFacingError


class NotificationError(UserFacingError):
    """The base of the notifications app's errors: the message is translated and safe to show."""


class PhoneVerificationError(NotificationError):
    """Proving a WhatsApp number with a code failed (no number, too many codes, wrong or expired code)."""
