"""The dev payment simulator: plays Midtrans on `make run` with no account anywhere.

Its checkout page (payments/views.py, `simulator`) offers pay / fail / let it expire (and "pay, but
lose the notification" to show reconciliation at work). Each choice updates the simulator's own
records and posts a notification signed with MIDTRANS_SERVER_KEY to our webhook over HTTP, so the
money path that runs is the real one: signature check, legal moves, ledger, booking confirmation.
Its status API answers from the same records, the way Midtrans' does."""

import logging
import secrets
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core import locks
from payments.gateways.base import (
    API_REFUNDABLE_METHODS,
    Checkout,
    CheckoutRequest,
    GatewayError,
    RefundResult,
    TransactionNotFound,
)
from payments.midtrans_rules import signature
from payments.models import SimulatorTransaction

logger = logging.getLogger(__name__)

STATUS_CODES = {"settlement": "200", "capture": "200", "refund": "200", "partial_refund": "200", "pending": "201"}

# What the checkout page offers: action → (transaction_status, payment_type).
ACTIONS = {
    "pay_qris": ("settlement", "qris"),
    "pay_va": ("settlement", "bank_transfer"),
    "pay_silently": ("settlement", "qris"),  # paid, but the notification is "lost"
    "pending_va": ("pending", "bank_transfer"),
    "fail": ("deny", "credit_card"),
    "expire": ("expire", "bank_transfer"),
}


def _locked(order_id: str) -> SimulatorTransaction | None:
    """The simulator's record under a row lock (core/locks.py); a busy row is a transient provider error,
    as Midtrans answers 5xx when it is busy. Call inside transaction.atomic()."""
    try:
        rows = locks.lock(SimulatorTransaction.objects.filter(order_id=order_id))
    except locks.LockBusy as error:
        raise GatewayError("the simulator is busy with this transaction", transient=True) from error
    return rows[0] if rows else None


def notification_for(record: SimulatorTransaction) -> dict:
    """The record in the shape (and with the signature) of a Midtrans notification."""
    status = record.transaction_status
    status_code = STATUS_CODES.get(status, "202")
    gross_amount = f"{record.gross_amount}.00"
    body = {
        "order_id": record.order_id,
        "status_code": status_code,
        "gross_amount": gross_amount,
        "transaction_status": status,
        "fraud_status": "accept",
        "payment_type": record.payment_type,
        "transaction_id": record.transaction_id,
        "transaction_time": timezone.localtime(record.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        "currency": "IDR",
        "signature_key": signature(
            order_id=record.order_id,
            status_code=status_code,
            gross_amount=gross_amount,
            server_key=settings.MIDTRANS_SERVER_KEY,
        ),
    }
    if record.payment_type == "bank_transfer":
        body["va_numbers"] = [{"bank": "bca", "va_number": "12345" + record.order_id[-6:].replace("-", "0")}]
    return body


class SimulatorGateway:
    name = "simulator"

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        record, _created = SimulatorTransaction.objects.get_or_create(
            order_id=request.order_id,
            defaults={
                "gross_amount": request.amount,
                "finish_url": request.finish_url,
                "expires_at": request.expires_at,
                "transaction_id": secrets.token_hex(16),
            },
        )
        origin = urlsplit(request.finish_url)
        path = reverse("payments:simulator", args=[record.order_id])
        redirect_url = f"{origin.scheme}://{origin.netloc}{path}" if origin.netloc else path
        return Checkout(redirect_url=redirect_url, token=record.transaction_id, raw={"redirect_url": redirect_url})

    def _record(self, order_id: str) -> SimulatorTransaction:
        record = SimulatorTransaction.objects.filter(order_id=order_id).first()
        if record is None:
            raise TransactionNotFound()
        if record.transaction_status in ("", "pending") and record.expires_at <= timezone.now():
            if record.transaction_status == "":
                raise TransactionNotFound()  # no method was ever chosen: Midtrans keeps answering 404
            record.transaction_status = "expire"
            record.save(update_fields=["transaction_status"])
        if record.transaction_status == "":
            raise TransactionNotFound()
        return record

    def status(self, order_id: str) -> dict:
        return notification_for(self._record(order_id))

    def act(self, order_id: str, action: str) -> dict:
        """A choice on the checkout page; returns the notification to deliver."""
        status, payment_type = ACTIONS[action]
        with transaction.atomic():
            record = _locked(order_id)
            if record is None:
                raise TransactionNotFound()
            if record.transaction_status not in ("", "pending"):
                raise GatewayError("this checkout is already finished", transient=False)
            if record.expires_at <= timezone.now() and status != "expire":
                raise GatewayError("this checkout has expired", transient=False)
            record.transaction_status = status
            record.payment_type = payment_type if not record.payment_type else record.payment_type
            record.save(update_fields=["transaction_status", "payment_type"])
        return notification_for(record)

    def deliver(self, notification: dict, *, webhook_url: str) -> bool:
        """Posts the notification to the webhook over HTTP, as Midtrans does; True if it was taken (200)."""
        try:
            answer = requests.post(webhook_url, json=notification, timeout=(2, 15), allow_redirects=False)
        except requests.RequestException as error:
            logger.warning("simulator could not deliver the notification: %s", error)
            return False
        return answer.status_code == 200

    def cancel(self, order_id: str) -> dict:
        return self._finish(order_id, "cancel")

    def expire(self, order_id: str) -> dict:
        return self._finish(order_id, "expire")

    def _finish(self, order_id: str, status: str) -> dict:
        record = self._record(order_id)
        # Like Midtrans: a pending transaction can be cancelled or expired; a captured card payment
        # (not settled yet) can be cancelled, which voids it.
        allowed = ("pending", "capture") if status == "cancel" else ("pending",)
        if record.transaction_status not in allowed:
            raise GatewayError(f"cannot {status} a {record.transaction_status} transaction", transient=False)
        record.transaction_status = status
        record.save(update_fields=["transaction_status"])
        return notification_for(record)

    def refund(self, order_id: str, *, refund_key: str, amount: int, reason: str) -> RefundResult:
        with transaction.atomic():
            record = _locked(order_id)
            if record is None or record.transaction_status not in ("settlement", "partial_refund", "refund"):
                raise GatewayError("only settled transactions can be refunded", transient=False)
            known = {entry["key"]: entry["amount"] for entry in record.refund_keys}
            if refund_key not in known:  # the same key again is the same refund
                if sum(known.values()) + amount > record.gross_amount:
                    raise GatewayError("refund exceeds the amount paid", transient=False)
                record.refund_keys = [*record.refund_keys, {"key": refund_key, "amount": amount}]
                refunded = sum(entry["amount"] for entry in record.refund_keys)
                record.transaction_status = "refund" if refunded == record.gross_amount else "partial_refund"
                record.save(update_fields=["refund_keys", "transaction_status"])
        return RefundResult(
            accepted=True, raw={"status_code": "200", "refund_key": refund_key, "refund_amount": amount}
        )

    def can_refund(self, payment_type: str) -> bool:
        return payment_type in API_REFUNDABLE_METHODS
