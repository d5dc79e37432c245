"""The one user-facing error of the project, and the one way it lands on a form.

Each app's errors subclass `UserFacingError` (BookingError, CompanionError, PaymentError, ...), so a view
catches the app's base and shows `message` as it is: it is already translated and safe to show. `field`
names the form field the message belongs to; `None` (or a field the form lacks) makes it a form-wide error.
"""

from __future__ import annotations


class UserFacingError(Exception):
    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class NotAllowed(UserFacingError):
    """This person may not do this (or not now). Used instead of the built-in PermissionError, which
    means an operating-system permission problem."""


def add_error_to_form(form, error: UserFacingError) -> None:
    """Puts `error` on `form`: on its field when the form has it, otherwise as a non-field error."""
    form.add_error(error.field if error.field in form.fields else None, error.message)
