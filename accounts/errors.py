from core.errors import UserFacingError


class AccountError(UserFacingError):
    """The base of the accounts app's errors: the message is translated and safe to show."""


class IdentityLocked(AccountError):
    """A detail checked against the KTP (name, date of birth) cannot be changed by the user."""
