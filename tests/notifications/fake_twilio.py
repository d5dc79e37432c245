"""A fake Twilio Messages API over real HTTP, for testing our WhatsApp adapter with the real `twilio` client.

It listens on 127.0.0.1 (a free port) and answers the two calls we make the way Twilio does
(../shared/INTEGRATIONS.md): POST /2010-04-01/Accounts/{sid}/Messages.json creates a message (HTTP Basic
auth sid:token; form-encoded From, To, Body or ContentSid + ContentVariables, StatusCallback; 201 with
the message as JSON, status "queued", dates in RFC 2822) and GET on the same path lists them (To, From
and DateSent> filters, newest first, paged in Twilio's list shape). Errors come as Twilio's error JSON
({"code", "message", "more_info", "status"}), which the client turns into TwilioRestException.

Point the client at it with `client.api.base_url = fake.url` (settings.TWILIO_API_BASE_URL): twilio 9
builds every URL as the domain's base_url + "/2010-04-01/Accounts/...".

Tests script faults per call (`fail_next`): an HTTP error answer (the message is NOT created), a late
answer (created or not, answered after the client's read timeout), or "accept then hang": the message is
created, then the answer is held until `release()` or `stop()` (to kill a worker mid-send). Accepted
messages are in `messages` (`created_count`); every request is in `requests`.

Webhooks go the other way: `send_status_callback` and `send_inbound` post what Twilio would post, signed
with the auth token (X-Twilio-Signature over the exact URL and the form fields), to a Django test client.
"""

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
MESSAGES = re.compile(rf"/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
CONTENT_SID = re.compile(r"HX[0-9a-f]{32}")
STATUS_URL = "http://testserver/webhooks/twilio/status/"
INBOUND_URL = "http://testserver/webhooks/twilio/inbound/"
MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

# Twilio's own messages for the codes we meet (https://www.twilio.com/docs/api/errors).
ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    21211: (400, "Invalid 'To' Phone Number"),
    21602: (400, "Message body is required."),
    21604: (400, "A 'To' phone number is required."),
    21603: (400, "A 'From' phone number is required."),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21656: (400, "The ContentVariables Parameter is invalid."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21910: (400, "Invalid From and To pair. From and To should be of the same channel"),
    63003: (400, "Channel could not find To address"),
    63014: (400, "Message delivery failed because it was blocked by the user"),
    63016: (400, "Failed to send freeform message because you are outside the allowed window."),
}


def twilio_error(code: int, message: str = "", status: int | None = None) -> tuple[int, dict]:
    default_status, default_message = ERRORS.get(code, (400, "Error"))
    status = status or default_status
    return status, {
        "code": code,
        "message": message or default_message,
        "more_info": MORE_INFO.format(code=code),
        "status": status,
    }


@dataclass
class Fault:
    """The next call (create or list). With `status` (and `code`): answered with Twilio's error JSON, and
    the message is not created. Without: handled as usual. Either way answered `delay` seconds late (past
    the client's read timeout, the answer is lost to it though the message may exist). With `hang`: handled,
    then the answer is held until release() or stop()."""

    status: int | None = None
    code: int | None = None
    message: str = ""
    delay: float = 0.0
    hang: bool = False


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    @property
    def auth(self) -> tuple[str, str] | None:
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme != "Basic":
            return None
        user, _, password = base64.b64decode(value).decode().partition(":")
        return user, password


@dataclass
class Message:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    content_sid: str
    content_variables: dict | None
    status_callback: str
    created_at: datetime
    status: str = "queued"
    date_sent: datetime | None = None
    error_code: int | None = None
    received_monotonic: float = field(default_factory=time.monotonic)

    def as_json(self) -> dict:
        created = format_datetime(self.created_at, usegmt=True)  # "Sun, 23 Nov 2025 05:48:00 GMT", like Twilio
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": created,
            "date_sent": format_datetime(self.date_sent, usegmt=True) if self.date_sent else None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}/Media.json",
            },
            "to": self.to,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json",
        }


class FakeTwilio:
    """`start()` it (or use it as a context manager), point TWILIO_API_BASE_URL at `url`, `stop()` it."""

    def __init__(self, *, account_sid: str, auth_token: str, latency: float = 0.0):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency  # seconds every answer takes (the bench: Twilio is not instant)
        # True: Twilio's queue is backed up; created messages stay "queued", with no date_sent (so a
        # DateSent filter does not find them) until `hand_on()`.
        self.hold_queued = False
        self.messages: list[Message] = []
        self.requests: list[Request] = []
        self._faults: dict[str, list[Fault]] = {"create": [], "list": []}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._released = threading.Event()
        self._created = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- lifecycle and test helpers ------------------------------------------------------------------

    def start(self) -> "FakeTwilio":
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes answers still sleeping in a delay or a hang
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def fail_next(self, *faults: Fault, call: str = "create") -> None:
        """The next calls ("create" or "list") meet these faults in turn."""
        with self._lock:
            self._faults[call].extend(faults)
            if any(fault.hang for fault in faults) and not self._stopping.is_set():
                self._released.clear()

    def release(self) -> None:
        """Lets every answer held by a `hang` fault go (to a client that may be gone)."""
        self._released.set()

    def hand_on(self) -> None:
        """Twilio's queue moves: every queued message is sent now."""
        with self._lock:
            now = datetime.now(UTC).replace(microsecond=0)
            for message in self.messages:
                if message.status == "queued":
                    message.status, message.date_sent = "sent", now

    @property
    def created_count(self) -> int:
        with self._lock:
            return len(self.messages)

    def wait_for_messages(self, count: int, timeout: float) -> bool:
        """True once at least `count` messages were created, False after `timeout` seconds."""
        with self._created:
            return self._created.wait_for(lambda: len(self.messages) >= count, timeout=timeout)

    def calls(self, method: str) -> list[Request]:
        with self._lock:
            return [request for request in self.requests if request.method == method]

    def message(self, sid: str) -> Message:
        with self._lock:
            return next(message for message in self.messages if message.sid == sid)

    def sign(self, url: str, params: dict) -> str:
        """X-Twilio-Signature for a POST of `params` to `url`, as Twilio computes it."""
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def status_params(self, sid: str, status: str, *, error_code: str | int | None = None) -> dict:
        """The form Twilio posts to a message's StatusCallback when its status changes."""
        with self._lock:
            message = next((m for m in self.messages if m.sid == sid), None)
        params = {
            "ApiVersion": API_VERSION,
            "AccountSid": self.account_sid,
            "ChannelPrefix": "whatsapp",
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": message.to if message else "",
            "From": message.from_ if message else "",
        }
        if error_code:
            params["ErrorCode"] = str(error_code)
        return params

    def inbound_params(self, sender: str, body: str, *, to: str = "", sid: str | None = None) -> dict:
        """The form Twilio posts to our number's incoming-message webhook when a user writes to us."""
        sid = sid or new_sid()
        return {
            "ApiVersion": API_VERSION,
            "AccountSid": self.account_sid,
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "From": sender if sender.startswith("whatsapp:") else f"whatsapp:{sender}",
            "To": to if to.startswith("whatsapp:") else f"whatsapp:{to}",
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "MessageType": "text",
            "ProfileName": "Pengguna",
            "WaId": sender.removeprefix("whatsapp:").removeprefix("+"),
        }

    def send_status_callback(
        self, client, sid: str, status: str, *, error_code=None, url: str = STATUS_URL, signature: str | None = None
    ):
        """Posts a status callback (and moves the fake's message to that status); returns the response."""
        with self._lock:
            for message in self.messages:
                if message.sid == sid:
                    message.status, message.error_code = status, int(error_code) if error_code else None
        return self.post(client, url, self.status_params(sid, status, error_code=error_code), signature=signature)

    def send_inbound(
        self,
        client,
        sender: str,
        body: str,
        *,
        to: str = "",
        sid: str | None = None,
        url: str = INBOUND_URL,
        signature: str | None = None,
    ):
        """Posts a user's message to our inbound webhook; returns the response."""
        return self.post(client, url, self.inbound_params(sender, body, to=to, sid=sid), signature=signature)

    def post(self, client, url: str, params: dict, *, signature: str | None = None):
        """Posts `params` form-encoded to `url`'s path through a Django test client, as Twilio does, with
        X-Twilio-Signature computed over `url` and `params`; or with `signature` instead (a forgery; ""
        sends no signature at all)."""
        signature = self.sign(url, params) if signature is None else signature
        return client.post(
            urlsplit(url).path,
            data=urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature} if signature else {},
        )

    # --- the API ---------------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict, raw: bytes) -> tuple[int, dict, Fault]:
        parts = urlsplit(raw_path)
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        form = {key: values[-1] for key, values in parse_qs(raw.decode(), keep_blank_values=True).items()}
        request = Request(method, parts.path, query, form, headers)
        match = MESSAGES.fullmatch(parts.path)
        call = "create" if method == "POST" else "list"
        with self._lock:
            self.requests.append(request)
            fault = self._faults[call].pop(0) if match and self._faults[call] else Fault()
            if fault.status is not None:
                status, answer = twilio_error(fault.code or _code_for(fault.status), fault.message, fault.status)
                return status, answer, fault
            if request.auth != (self.account_sid, self.auth_token):
                return (*twilio_error(20003), fault)
            if match is None or match["account"] != self.account_sid or method not in ("GET", "POST"):
                return (*twilio_error(20404), fault)
            if method == "POST":
                status, answer = self._create(form)
                self._created.notify_all()
            else:
                status, answer = self._list(parts.path, query)
        return status, answer, fault

    def _create(self, form: dict) -> tuple[int, dict]:
        to, from_ = form.get("To", ""), form.get("From", "")
        body, content_sid = form.get("Body", ""), form.get("ContentSid", "")
        if not to:
            return twilio_error(21604)
        if not from_:
            return twilio_error(21603)
        if to.startswith("whatsapp:") != from_.startswith("whatsapp:"):
            return twilio_error(21910)
        if not E164.fullmatch(to.removeprefix("whatsapp:")):
            return twilio_error(21211, f"The 'To' number {to} is not a valid phone number.")
        variables = None
        if content_sid:
            if not CONTENT_SID.fullmatch(content_sid):
                return twilio_error(21656, "The ContentSid is invalid.")
            try:
                variables = json.loads(form.get("ContentVariables") or "{}")
            except ValueError:
                return twilio_error(21656)
            if not isinstance(variables, dict) or not all(isinstance(value, str) for value in variables.values()):
                return twilio_error(21656)
        elif not body:
            return twilio_error(21602)
        if len(body) > 1600:
            return twilio_error(21617)
        now = datetime.now(UTC).replace(microsecond=0)
        message = Message(
            sid=new_sid(),
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            body=body,
            content_sid=content_sid,
            content_variables=variables,
            status_callback=form.get("StatusCallback", ""),
            created_at=now,
        )
        self.messages.append(message)
        answer = message.as_json()  # "queued", not sent yet, as Twilio answers a create
        if not self.hold_queued:  # Twilio hands a message on within moments; the fake at once
            message.status, message.date_sent = "sent", now
        return 201, answer

    def _list(self, path: str, query: dict) -> tuple[int, dict]:
        # Twilio's DateSent filters compare whole days (YYYY-MM-DD; a time, if given, is ignored here), and
        # only messages with a date_sent match: one still queued at Twilio has none.
        after = (query.get("DateSent>") or "")[:10]
        selected = [
            message
            for message in reversed(self.messages)  # newest first
            if (not query.get("To") or message.to == query["To"])
            and (not query.get("From") or message.from_ == query["From"])
            and (not after or (message.date_sent is not None and message.date_sent.date().isoformat() >= after))
        ]
        page_size = max(1, min(1000, int(query.get("PageSize") or 50)))
        page = int(query.get("Page") or 0)
        chunk = selected[page * page_size : (page + 1) * page_size]
        filters = {key: value for key, value in query.items() if key not in ("Page", "PageSize", "PageToken")}

        def uri(number: int) -> str:
            parameters = {**filters, "PageSize": page_size, "Page": number}
            if number:
                parameters["PageToken"] = f"PASM{number}"
            return f"{path}?{urlencode(parameters)}"

        more = (page + 1) * page_size < len(selected)
        return 200, {
            "messages": [message.as_json() for message in chunk],
            "end": page * page_size + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if more else None,
            "previous_page_uri": uri(page - 1) if page else None,
            "page": page,
            "page_size": page_size,
            "start": page * page_size,
            "uri": uri(page),
        }


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def _code_for(status: int) -> int:
    return {401: 20003, 404: 20404, 429: 20429}.get(status, 20500 if status >= 500 else 21211)


def _handler(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as api.twilio.com

        def _serve(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, answer, fault = fake.handle(self.command, self.path, dict(self.headers), raw)
            if fake.latency:
                fake._stopping.wait(fake.latency)
            if fault.delay:
                fake._stopping.wait(fault.delay)
            if fault.hang:
                fake._released.wait()
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Twilio-Request-Id", new_sid("RQ"))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (read timeout) or died: its loss
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format, *args):  # noqa: A002 (the stdlib's name)
            pass

    return Handler
