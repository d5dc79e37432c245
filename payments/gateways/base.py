"""The payment gateway interface: what the payments services need from a provider. Two adapters
implement it (settings.PAYMENT_GATEWAY): Midtrans (real) and the Simulator (dev, `make run`).
Adapters take and return plain data; they never touch our models."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# Methods Midtrans can refund through the API; the rest (bank transfer VA, echannel, convenience
# stores) need a manual bank transfer to the customer. Here, not in the package's __init__, so the
# adapters import only this module (the package imports the adapters: one direction).
API_REFUNDABLE_METHODS = frozenset({"credit_card", "gopay", "shopeepay", "qris", "akulaku", "kredivo", "dana"})


class GatewayError(Exception):
    """A call to the provider failed. `transient` errors (timeouts, 5xx, 429) are retried with the
    same idempotency key; permanent ones (4xx) are recorded for a person to look at."""

    def __init__(self, message: str, *, transient: bool, http_status: int | None = None, response: dict | None = None):
        super().__init__(message)
        self.transient = transient
        self.http_status = http_status
        self.response = response or {}


class TransactionNotFound(GatewayError):
    """The provider has no transaction for this order id (for Snap: no payment method chosen yet)."""

    def __init__(self, message: str = "transaction not found", **kwargs):
        super().__init__(message, transient=False, http_status=404, **kwargs)


@dataclass(frozen=True)
class Item:
    id: str
    name: str  # at most 50 characters (Midtrans)
    price: int  # whole Rupiah; negative for a discount line
    quantity: int = 1


@dataclass(frozen=True)
class CheckoutRequest:
    order_id: str
    amount: int
    items: list[Item]
    customer_name: str
    customer_email: str
    customer_phone: str
    expires_at: datetime  # aware; the checkout stops accepting payment then
    finish_url: str  # where the customer's browser comes back to (never trusted as proof of payment)

    def __post_init__(self):
        if sum(item.price * item.quantity for item in self.items) != self.amount:
            raise ValueError("item details must sum to the amount")


@dataclass(frozen=True)
class Checkout:
    redirect_url: str
    token: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    accepted: bool
    raw: dict = field(default_factory=dict)


class PaymentGateway(Protocol):
    name: str

    def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    def status(self, order_id: str) -> dict:
        """The provider's transaction status in the notification's shape; TransactionNotFound if none."""

    def cancel(self, order_id: str) -> dict: ...

    def expire(self, order_id: str) -> dict: ...

    def refund(self, order_id: str, *, refund_key: str, amount: int, reason: str) -> RefundResult: ...

    def can_refund(self, payment_type: str) -> bool:
        """Whether money paid with this method can be sent back by API (else: manual bank transfer)."""
