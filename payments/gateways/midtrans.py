"""Midtrans through `midtransclient`: Snap for the checkout, the Core API for status, cancel, expire
and refund. midtransclient passes no timeout to `requests`, so each client gets a Session that adds
ours to every call; a hung Midtrans then costs seconds, never a worker."""

from zoneinfo import ZoneInfo

import midtransclient
import requests
from django.utils import timezone
from midtransclient.error_midtrans import JSONDecodeError, MidtransAPIError

from payments.gateways.base import (
    API_REFUNDABLE_METHODS,
    Checkout,
    CheckoutRequest,
    GatewayError,
    RefundResult,
    TransactionNotFound,
)

WIB = ZoneInfo("Asia/Jakarta")


class _TimeoutSession(requests.Session):
    def __init__(self, timeout: tuple[float, float]):
        super().__init__()
        self._timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        # Midtrans never redirects an API call; a redirect would be someone else's answer.
        kwargs["allow_redirects"] = False
        return super().request(method, url, **kwargs)


def _first_error(response: dict) -> str:
    messages = response.get("error_messages") or [response.get("status_message") or ""]
    return "; ".join(str(message) for message in messages)[:280]


class MidtransGateway:
    name = "midtrans"

    def __init__(
        self,
        *,
        server_key: str,
        is_production: bool,
        snap_base_url: str = "",
        api_base_url: str = "",
        timeout: tuple[float, float] = (3.05, 10.0),
    ):
        session = _TimeoutSession(timeout)
        self.snap = midtransclient.Snap(is_production=is_production, server_key=server_key)
        self.core = midtransclient.CoreApi(is_production=is_production, server_key=server_key)
        for client in (self.snap, self.core):
            client.http_client.http_client = session
        # Pointed at a local fake in tests; empty means the real sandbox or production hosts.
        if snap_base_url:
            self.snap.api_config.SNAP_SANDBOX_BASE_URL = self.snap.api_config.SNAP_PRODUCTION_BASE_URL = snap_base_url
        if api_base_url:
            self.core.api_config.CORE_SANDBOX_BASE_URL = self.core.api_config.CORE_PRODUCTION_BASE_URL = api_base_url

    def _call(self, function, *args):
        try:
            return function(*args)
        except MidtransAPIError as error:
            response = error.api_response_dict or {}
            status = error.http_status_code
            body_status = str(response.get("status_code") or "")
            if status == 404 or body_status == "404":
                raise TransactionNotFound(response=response) from error
            transient = status in (429, 500, 502, 503, 504) or body_status.startswith("5")
            raise GatewayError(
                _first_error(response), transient=transient, http_status=status, response=response
            ) from error
        except requests.Timeout as error:
            raise GatewayError("timeout", transient=True) from error
        except requests.ConnectionError as error:
            raise GatewayError("connection failed", transient=True) from error
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as error:
            # The connection dropped in the middle of the answer: Midtrans may have done the work.
            raise GatewayError("answer cut off", transient=True) from error
        except requests.RequestException as error:  # a malformed base URL and the like: retrying won't help
            raise GatewayError(f"request failed: {type(error).__name__}", transient=False) from error
        except JSONDecodeError as error:  # an HTML error page from a proxy, usually a 5xx
            raise GatewayError("answer was not JSON", transient=True) from error

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        # Whole minutes from now, rounded down: the checkout closes at or before the booking's deadline.
        start = timezone.now().astimezone(WIB)
        minutes = max(1, int((request.expires_at - start).total_seconds() // 60))
        params = {
            "transaction_details": {"order_id": request.order_id, "gross_amount": request.amount},
            "item_details": [
                {"id": item.id, "name": item.name[:50], "price": item.price, "quantity": item.quantity}
                for item in request.items
            ],
            "customer_details": {
                "first_name": request.customer_name[:50],
                "email": request.customer_email,
                "phone": request.customer_phone,
            },
            "expiry": {"start_time": start.strftime("%Y-%m-%d %H:%M:%S %z"), "unit": "minute", "duration": minutes},
            "callbacks": {"finish": request.finish_url},
        }
        answer = self._call(self.snap.create_transaction, params)
        if not answer.get("redirect_url"):
            raise GatewayError("checkout answer without redirect_url", transient=False, response=answer)
        return Checkout(redirect_url=answer["redirect_url"], token=answer.get("token", ""), raw=answer)

    def status(self, order_id: str) -> dict:
        return self._call(self.core.transactions.status, order_id)

    def cancel(self, order_id: str) -> dict:
        return self._call(self.core.transactions.cancel, order_id)

    def expire(self, order_id: str) -> dict:
        return self._call(self.core.transactions.expire, order_id)

    def refund(self, order_id: str, *, refund_key: str, amount: int, reason: str) -> RefundResult:
        answer = self._call(
            self.core.transactions.refund, order_id, {"refund_key": refund_key, "amount": amount, "reason": reason}
        )
        return RefundResult(accepted=str(answer.get("status_code")) == "200", raw=answer)

    def can_refund(self, payment_type: str) -> bool:
        return payment_type in API_REFUNDABLE_METHODS
