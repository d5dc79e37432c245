"""Midtrans facts as pure functions (../shared/INTEGRATIONS.md): the notification signature, what a
transaction status means for us, which status changes are legal, and amounts as whole Rupiah.
The webhook and the reconciliation task (payments issue) apply them; they never call Midtrans."""

import hashlib
import hmac
from decimal import Decimal, InvalidOperation


class PaymentOutcome:
    PENDING = "pending"
    PAID = "paid"
    CHALLENGE = "challenge"  # card payment held for review: not paid yet
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    CHARGEBACK = "chargeback"


def signature(*, order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """sha512(order_id + status_code + gross_amount + server_key), over the strings exactly as sent."""
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{server_key}".encode()).hexdigest()


def verify_signature(payload: dict, *, server_key: str) -> bool:
    """Constant-time check of a notification's signature_key; False for anything missing or odd."""
    fields = [payload.get(name) for name in ("order_id", "status_code", "gross_amount", "signature_key")]
    if not all(isinstance(value, str) and value for value in fields):
        return False
    order_id, status_code, gross_amount, received = fields
    expected = signature(order_id=order_id, status_code=status_code, gross_amount=gross_amount, server_key=server_key)
    return hmac.compare_digest(expected, received.lower())


def outcome(transaction_status: str, fraud_status: str | None = None) -> str | None:
    """What a Midtrans status means for us; None for statuses we do not know (recorded, ignored)."""
    if transaction_status == "capture":
        return {
            "accept": PaymentOutcome.PAID,
            "challenge": PaymentOutcome.CHALLENGE,
            "deny": PaymentOutcome.FAILED,
        }.get(fraud_status or "accept")
    return {
        "settlement": PaymentOutcome.PAID,
        "pending": PaymentOutcome.PENDING,
        "deny": PaymentOutcome.FAILED,
        "cancel": PaymentOutcome.FAILED,
        "expire": PaymentOutcome.FAILED,
        "failure": PaymentOutcome.FAILED,
        "refund": PaymentOutcome.REFUNDED,
        "partial_refund": PaymentOutcome.PARTIALLY_REFUNDED,
        "chargeback": PaymentOutcome.CHARGEBACK,
    }.get(transaction_status)


# Midtrans transaction statuses and where each may legally go next. Anything else arriving later
# (e.g. "pending" after "settlement") is stale: recorded, and it changes nothing.
LEGAL_MOVES: dict[str, set[str]] = {
    "": {"pending", "capture", "settlement", "deny", "cancel", "expire", "failure"},
    "pending": {"settlement", "capture", "expire", "cancel", "deny", "failure"},
    "capture": {"settlement", "cancel", "refund", "partial_refund", "chargeback"},
    "settlement": {"refund", "partial_refund", "chargeback"},
    "partial_refund": {"refund", "partial_refund", "chargeback"},
}


def is_legal_move(current: str, incoming: str) -> bool:
    """`current` is the last status we applied ("" when none yet)."""
    return incoming in LEGAL_MOVES.get(current, set())


def parse_amount(gross_amount: str) -> int:
    """ "154600.00" -> 154600. IDR has no minor unit in practice: a fraction is refused, not rounded."""
    try:
        value = Decimal(gross_amount)
    except (InvalidOperation, TypeError) as error:
        raise ValueError(f"not an amount: {gross_amount!r}") from error
    if value != value.to_integral_value() or value < 0:
        raise ValueError(f"not a whole Rupiah amount: {gross_amount!r}")
    return int(value)
