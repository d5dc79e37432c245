"""The configured payment gateway (settings.PAYMENT_GATEWAY: "midtrans" or "simulator")."""

from django.conf import settings

from payments.gateways.base import (
    Checkout,
    CheckoutRequest,
    GatewayError,
    Item,
    PaymentGateway,
    RefundResult,
    TransactionNotFound,
)

__all__ = [
    "Checkout",
    "CheckoutRequest",
    "GatewayError",
    "Item",
    "PaymentGateway",
    "RefundResult",
    "TransactionNotFound",
    "get_gateway",
]

# Methods Midtrans can refund through the API; the rest (bank transfer VA, echannel, convenience
# stores) need a manual bank transfer to the customer.
API_REFUNDABLE_METHODS = frozenset({"credit_card", "gopay", "shopeepay", "qris", "akulaku", "kredivo", "dana"})


def get_gateway() -> PaymentGateway:
    if settings.PAYMENT_GATEWAY == "midtrans":
        from payments.gateways.midtrans import MidtransGateway

        return MidtransGateway(
            server_key=settings.MIDTRANS_SERVER_KEY,
            is_production=settings.MIDTRANS_IS_PRODUCTION,
            snap_base_url=settings.MIDTRANS_SNAP_BASE_URL,
            api_base_url=settings.MIDTRANS_API_BASE_URL,
            timeout=(settings.MIDTRANS_CONNECT_TIMEOUT, settings.MIDTRANS_READ_TIMEOUT),
        )
    if settings.PAYMENT_GATEWAY == "simulator":
        from payments.gateways.simulator import SimulatorGateway

        return SimulatorGateway()
    raise ValueError(f"unknown PAYMENT_GATEWAY {settings.PAYMENT_GATEWAY!r}")
