"""The configured payment gateway (settings.PAYMENT_GATEWAY: "midtrans" or "simulator")."""

from django.conf import settings

from payments.gateways.base import (
    API_REFUNDABLE_METHODS,
    Checkout,
    CheckoutRequest,
    GatewayError,
    Item,
    PaymentGateway,
    RefundResult,
    TransactionNotFound,
)

__all__ = [
    "API_REFUNDABLE_METHODS",
    "Checkout",
    "CheckoutRequest",
    "GatewayError",
    "Item",
    "PaymentGateway",
    "RefundResult",
    "TransactionNotFound",
    "get_gateway",
]


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
