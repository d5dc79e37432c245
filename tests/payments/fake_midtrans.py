"""A fake Midtrans over real HTTP, for testing our adapter with the real `midtransclient`.

It listens on 127.0.0.1 (a free port), keeps its transactions in memory and answers the calls we make
the way ../shared/INTEGRATIONS.md describes Midtrans: Snap checkout creation (Basic auth, order_id and
amount rules, one order_id per transaction), the status API (404 until the customer pays), cancel,
expire and refund (a repeated refund_key is the same refund). Tests play the customer (`pay`,
`set_status`) and script faults per path (`fail_next`): an HTTP error answer, or a slow answer that
outlives the client's read timeout. Everything received is logged (`requests`, `refund_calls`)."""

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from payments.midtrans_rules import signature

ORDER_ID = re.compile(r"[A-Za-z0-9\-_~.]{1,50}")
PATH = re.compile(r"/v2/(?P<order_id>[^/]+)/(?P<action>status|cancel|expire|refund)")
STATUS_CODES = {"pending": "201", "deny": "202", "failure": "202", "expire": "407"}
SETTLED = ("settlement", "capture", "partial_refund")
API_REFUNDABLE = ("credit_card", "gopay", "shopeepay", "qris", "akulaku", "kredivo", "dana")


@dataclass
class Fault:
    """The next call to a path. With `status`: answered with it (and `body`: a dict as JSON, a str
    as is, e.g. a proxy's HTML page) without being handled. Without: handled as usual (the state
    changes, as it would at Midtrans). Either way answered `delay` seconds late: past the client's
    read timeout the answer is lost to it, though the work may have been done. With `cut`, the
    connection drops halfway through the answer."""

    status: int | None = None
    body: dict | str | None = None
    delay: float = 0.0
    cut: bool = False


@dataclass
class Call:
    method: str
    path: str
    headers: dict
    body: dict | None

    @property
    def auth(self) -> tuple[str, str] | None:
        """The HTTP Basic credentials sent, as (user, password)."""
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme != "Basic":
            return None
        user, _, password = base64.b64decode(value).decode().partition(":")
        return user, password


@dataclass
class Transaction:
    order_id: str
    gross_amount: int
    params: dict
    token: str
    redirect_url: str
    created_at: datetime
    expires_at: datetime
    status: str = ""  # "" until the customer chooses a method: the status API answers 404
    payment_type: str = ""
    fraud_status: str = "accept"
    transaction_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    refunds: dict = field(default_factory=dict)  # refund_key -> the refund made (once per key)

    @property
    def refunded(self) -> int:
        return sum(refund["amount"] for refund in self.refunds.values())


class FakeMidtrans:
    """Start it (`start`), point the gateway settings at `snap_base_url` and `api_base_url`, `stop` it."""

    def __init__(self, *, server_key: str):
        self.server_key = server_key
        self.transactions: dict[str, Transaction] = {}
        self.requests: list[Call] = []
        self.refund_calls: list[dict] = []  # every /refund call, faulted too: order_id + its body
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.snap_base_url = f"{self.url}/snap/v1"  # what midtransclient expects (it appends /transactions)
        self.api_base_url = self.url

    # --- lifecycle and test helpers ------------------------------------------------------------------

    def start(self) -> "FakeMidtrans":
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes answers still sleeping in a delay
        self._server.shutdown()
        self._server.server_close()

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def fail_next(self, path: str, *faults: Fault) -> None:
        """The next calls to `path` (e.g. "/snap/v1/transactions", "/v2/<order_id>/refund") fail in turn."""
        with self._lock:
            self._faults.setdefault(path, []).extend(faults)

    def pay(self, order_id: str, payment_type: str = "qris") -> Transaction:
        """The customer pays on the checkout page (no notification is sent: the status API knows)."""
        return self.set_status(order_id, "settlement", payment_type=payment_type)

    def set_status(self, order_id: str, status: str, *, payment_type: str = "", fraud_status: str = "accept"):
        with self._lock:
            transaction = self.transactions[order_id]
            transaction.status = status
            transaction.payment_type = payment_type or transaction.payment_type or "qris"
            transaction.fraud_status = fraud_status
            return transaction

    def calls(self, path: str) -> list[Call]:
        return [call for call in self.requests if call.path == path]

    # --- the API ---------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict, raw: bytes) -> tuple[int, dict | str, Fault]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        call = Call(method, path, headers, body)
        with self._lock:
            self.requests.append(call)
            if method == "POST" and path.endswith("/refund"):
                self.refund_calls.append({"order_id": path.split("/")[2], **(body or {})})
            fault = self._faults[path].pop(0) if self._faults.get(path) else Fault()
            if fault.status is not None:
                return fault.status, fault.body or _error(fault.status, "scripted fault"), fault
            if call.auth != (self.server_key, ""):
                return 401, _error(401, "Access denied: unknown merchant server key"), fault
            if method == "POST" and path == "/snap/v1/transactions":
                status, answer = self._create(body if isinstance(body, dict) else {})
            elif match := PATH.fullmatch(path):
                status, answer = self._core(method, match["order_id"], match["action"], body or {})
            else:
                status, answer = 404, _error(404, "not found")
        return status, answer, fault

    def _create(self, body: dict) -> tuple[int, dict]:
        details = body.get("transaction_details") or {}
        order_id, amount = details.get("order_id"), details.get("gross_amount")
        items = body.get("item_details") or []
        problems = []
        if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
            problems.append("transaction_details.order_id must be 1-50 letters, digits, - _ ~ .")
        if not _is_int(amount) or amount <= 0:
            problems.append("transaction_details.gross_amount must be a positive integer")
        bad_items = [
            i for i in items if not (_is_int(i.get("price")) and _is_int(i.get("quantity")) and i["quantity"] > 0)
        ]
        if bad_items or any(len(str(item.get("name", ""))) > 50 for item in items):
            problems.append("item_details need an integer price, a positive quantity and a name of at most 50")
        elif items and sum(item["price"] * item["quantity"] for item in items) != amount:
            problems.append("transaction_details.gross_amount is not equal to the sum of item_details")
        expiry = body.get("expiry") or {}
        try:
            start = datetime.strptime(expiry.get("start_time", ""), "%Y-%m-%d %H:%M:%S %z")
            if expiry.get("unit") != "minute" or not _is_int(expiry.get("duration")) or expiry["duration"] <= 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append('expiry needs start_time "YYYY-MM-DD HH:MM:SS +0700", unit "minute", an integer duration')
        if problems:
            return 400, {"error_messages": problems}
        if order_id in self.transactions:
            return 406, {"error_messages": ["transaction_details.order_id sudah digunakan"]}
        token = str(uuid.uuid4())
        transaction = Transaction(
            order_id=order_id,
            gross_amount=amount,
            params=body,
            token=token,
            redirect_url=f"{self.url}/snap/v4/redirection/{token}",
            created_at=start,
            expires_at=start + timedelta(minutes=expiry["duration"]),
        )
        self.transactions[order_id] = transaction
        return 201, {"token": token, "redirect_url": transaction.redirect_url}

    def _core(self, method: str, order_id: str, action: str, body: dict) -> tuple[int, dict]:
        transaction = self.transactions.get(order_id)
        if transaction is None or not transaction.status:
            return 404, _error(404, "Transaction doesn't exist.")
        if (method == "GET") != (action == "status"):
            return 405, _error(405, "method not allowed")
        if action in ("cancel", "expire"):
            if transaction.status not in (("pending", "capture") if action == "cancel" else ("pending",)):
                return 412, _error(412, "Merchant cannot modify the status of the transaction")
            transaction.status = action
        elif action == "refund":
            return self._refund(transaction, body)
        return 200, self.notification(transaction)

    def _refund(self, transaction: Transaction, body: dict) -> tuple[int, dict]:
        key, amount = body.get("refund_key"), body.get("amount")
        if key in transaction.refunds:  # the same refund again: answered, not made twice
            return 200, transaction.refunds[key]["answer"]
        if transaction.status not in SETTLED or transaction.payment_type not in API_REFUNDABLE:
            return 412, _error(412, "Transaction cannot be refunded by API")
        if (
            not isinstance(key, str)
            or not key
            or not _is_int(amount)
            or not 0 < amount <= transaction.gross_amount - transaction.refunded
        ):
            return 400, _error(400, "refund_key and an amount up to the refundable balance are required")
        transaction.refunds[key] = {"amount": amount, "reason": body.get("reason", "")}
        transaction.status = "refund" if transaction.refunded == transaction.gross_amount else "partial_refund"
        answer = {
            **self.notification(transaction),
            "status_message": "Success, refund request is approved",
            "refund_chargeback_id": len(transaction.refunds),
            "refund_amount": f"{amount}.00",
            "refund_key": key,
        }
        transaction.refunds[key]["answer"] = answer
        return 200, answer

    def notification(self, transaction: Transaction) -> dict:
        """The transaction in the shape of a notification (what the status API answers), signed."""
        status_code = STATUS_CODES.get(transaction.status, "200")
        gross_amount = f"{transaction.gross_amount}.00"
        answer = {
            "status_code": status_code,
            "status_message": "Success, transaction is found",
            "transaction_id": transaction.transaction_id,
            "order_id": transaction.order_id,
            "gross_amount": gross_amount,
            "currency": "IDR",
            "payment_type": transaction.payment_type,
            "transaction_time": transaction.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "transaction_status": transaction.status,
            "fraud_status": transaction.fraud_status,
            "signature_key": signature(
                order_id=transaction.order_id,
                status_code=status_code,
                gross_amount=gross_amount,
                server_key=self.server_key,
            ),
        }
        if transaction.payment_type == "bank_transfer":
            answer["va_numbers"] = [{"bank": "bca", "va_number": "70012" + transaction.order_id[-6:]}]
        return answer


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _error(status: int, message: str) -> dict:
    return {"status_code": str(status), "status_message": message, "error_messages": [message]}


def _handler(fake: FakeMidtrans):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, answer, fault = fake.handle(self.command, self.path.split("?")[0], dict(self.headers), raw)
            fake.wait(fault.delay)
            payload = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if isinstance(answer, dict) else "text/html")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2] if fault.cut else payload)
            except OSError:  # the client gave up waiting (read timeout): its loss
                pass
            self.close_connection = self.close_connection or fault.cut

        do_GET = do_POST = _serve

        def log_message(self, format, *args):  # noqa: A002 (the stdlib's name)
            pass

    return Handler
