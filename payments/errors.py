"""Errors whose messages are safe (and translated) to show users."""


class PaymentError(Exception):
    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
