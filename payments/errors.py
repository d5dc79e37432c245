"""Errors whose messages are safe (and translated) to show users."""

from django.utils.translation import gettext as _

from core.errors import NotAllowed, UserFacingError


class PaymentError(UserFacingError):
    """Base of this app's errors: `message` is shown as it is, `field` names the form field (core/errors.py)."""


class PaymentNotAllowed(NotAllowed, PaymentError):
    """This person may not do this to the payment, refund or payout (a PaymentError too, so every caller
    that shows payment errors shows it)."""


class PaymentBusy(PaymentError):
    """A payment, refund or payout row stayed locked past the lock timeout (core/locks.py): nothing was
    written; pages say "try again", the webhook answers 503 so Midtrans retries."""

    def __init__(self, message=None, **kwargs):
        message = message or _("This payment is being updated right now. Please try again in a moment.")
        super().__init__(message, **kwargs)
