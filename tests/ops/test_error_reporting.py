"""Errors reach Sentry / GlitchTip without personal data (issue 19), through the real sentry-sdk transport.

A tiny HTTP server in a thread plays Sentry: it accepts the SDK's envelopes (POST /api/<project>/envelope/,
gzip-compressed), and the tests read the raw bytes the SDK sent. The SDK is started by our own
`init_error_reporting()` (what the settings call when SENTRY_DSN is set) with a DSN pointing at that server;
a real request through Django's test client, to a view that fails, and a real Celery task that fails produce
the events. Nothing of ours is mocked: what is asserted is what would have left the machine.
"""

import gzip
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.celery import app
from core.error_reporting import init_error_reporting
from tests.test_deploy import CHILD_PRELUDE, production_environment, run_child

# The secrets live up here, far from the lines that raise: the SDK sends the source lines around each frame.
NIK = "3174012345678901"
PHONE_E164 = "+6281234567890"
PHONE_LOCAL = "081234567890"
EMAIL = "siti.rahma@example.co.id"
TOKEN = "tkn_Qx7Lm2Pz9Vb4Nc8Rw1"
OTP = "482913"
PASSWORD = "kata-Sandi-rahasia-99"
SESSION_COOKIE = "sess0a1b2c3d4e5f6g7h8i9j0klmnop"
CSRF_COOKIE = "csrfQWERTYUIOPasdfghjkl1234567890"
TWILIO_SIGNATURE = "bXktdHdpbGlvLXNpZ25hdHVyZS12YWx1ZQ=="
MIDTRANS_SIGNATURE = "9f" * 64  # a SHA-512 hex digest
SECRETS = (
    NIK,
    PHONE_E164,
    PHONE_LOCAL,
    EMAIL,
    TOKEN,
    OTP,
    PASSWORD,
    SESSION_COOKIE,
    CSRF_COOKIE,
    TWILIO_SIGNATURE,
    MIDTRANS_SIGNATURE,
)

logger = logging.getLogger("tests.ops.error_reporting")


class PersonLookupError(Exception):
    pass


class TaskBlewUp(Exception):
    pass


def _look_up_person(request):
    # Locals with personal data under names no scrubber could recognise: they must not be sent at all.
    value, other, opaque = NIK, PHONE_LOCAL, TOKEN
    contact = {"email": EMAIL, "phone": PHONE_E164, "otp": OTP}
    logger.error("verification failed for %s (%s)", EMAIL, PHONE_E164)
    raise PersonLookupError(
        f"no match for nik={value}, phone {contact['phone']} / {other}, email {contact['email']}, "
        f"token={opaque}, OTP {contact['otp']}, signature_key={MIDTRANS_SIGNATURE}"
    )


@csrf_exempt  # a POST from outside, like a webhook's
def failing_view(request):
    return _look_up_person(request)


def shared_link_view(request, token):
    from accounts.models import User

    # A query whose parameter is an email: spans carry the SQL, never its parameters.
    return HttpResponse(str(User.objects.filter(email__iexact=request.GET.get("email", "")).count()))


urlpatterns = [path("explode/", failing_view), path("shared/<str:token>/", shared_link_view)]


@app.task(name="tests.ops.error_reporting.failing_task")
def failing_task(nik, email):
    secret_code = OTP
    raise TaskBlewUp(f"could not notify {email} about NIK {nik}, code={secret_code}, {PHONE_LOCAL}")


# --- the fake Sentry --------------------------------------------------------------------------------------


class FakeSentry:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self.received = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                with fake.received:
                    fake.paths.append(self.path)
                    fake.bodies.append(body)
                    fake.received.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_address[1]}/1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def raw(self) -> bytes:
        with self.received:
            return b"\n".join(self.bodies)

    def events(self, kind: str = "event") -> list[dict]:
        """The items of one type (an error "event", a "span" container...) in the envelopes (header line, then
        item header line and payload line for each item)."""
        events = []
        with self.received:
            bodies = list(self.bodies)
        for body in bodies:
            lines = body.split(b"\n")
            index = 1  # after the envelope header
            while index + 1 < len(lines):
                item_header = json.loads(lines[index])
                payload = lines[index + 1]
                if item_header.get("type") == kind:
                    events.append(json.loads(payload))
                index += 2
        return events

    def wait_for(self, predicate, timeout: float = 10.0) -> list[dict]:
        sentry_sdk.flush(timeout=timeout)
        with self.received:
            self.received.wait_for(lambda: predicate(self._events_unlocked()), timeout=timeout)
        return self.events()

    def _events_unlocked(self) -> list[dict]:
        self.received.release()
        try:
            return self.events()
        finally:
            self.received.acquire()


def exception_types(event: dict) -> list[str]:
    return [value.get("type") for value in (event.get("exception") or {}).get("values") or []]


def assert_no_secret_in(raw: bytes) -> None:
    text = raw.decode("utf-8", errors="replace")
    # Also as JSON would escape them ("+" and "@" are not escaped, but be sure).
    unescaped = text.encode().decode("unicode_escape", errors="replace")
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} left in an envelope"
        assert secret not in unescaped, f"{secret!r} left in an envelope"
    # Nor the digits of the NIK and phone with any separators the SDK might have put between them.
    assert "174012345678" not in text and "1234567890" not in text


@pytest.fixture
def traces_sample_rate():
    return 0.0


@pytest.fixture
def fake_sentry(traces_sample_rate):
    fake = FakeSentry()
    init_error_reporting(dsn=fake.dsn, environment="test", traces_sample_rate=traces_sample_rate)
    assert sentry_sdk.get_client().is_active()
    try:
        yield fake
    finally:
        sentry_sdk.flush(timeout=5)
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        fake.close()


# --- tests ----------------------------------------------------------------------------------------------


def wsgi_call(request) -> tuple[str, dict[str, str]]:
    """The request through Django's WSGI application, as gunicorn calls it (the SDK hooks in there), with the
    test's database connection kept open as Django's test client keeps it."""
    status_headers: dict = {}

    def start_response(status, headers, exc_info=None):
        status_headers["status"], status_headers["headers"] = status, dict(headers)

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = get_wsgi_application()(request.environ, start_response)
        b"".join(body)
        body.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return status_headers["status"], status_headers["headers"]


@override_settings(ROOT_URLCONF=__name__)
def test_a_failing_request_reaches_the_reporter_without_personal_data(fake_sentry, db):
    request = RequestFactory().post(
        f"/explode/?email={EMAIL}&q={PHONE_LOCAL}&token={TOKEN}&code={OTP}",
        data={"password": PASSWORD, "nik": NIK, "phone": PHONE_E164, "note": f"my NIK is {NIK}"},
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "X-Twilio-Signature": TWILIO_SIGNATURE,
            "X-CSRFToken": CSRF_COOKIE,
            "X-Request-ID": "edge-req-42",
            "Cookie": f"sessionid={SESSION_COOKIE}; csrftoken={CSRF_COOKIE}",
            "User-Agent": "pytest-agent",
        },
    )
    status, headers = wsgi_call(request)
    assert status.startswith("500")

    events = fake_sentry.wait_for(
        lambda found: (
            any("PersonLookupError" in exception_types(e) for e in found) and any(e.get("logentry") for e in found)
        )
    )
    error = next(e for e in events if "PersonLookupError" in exception_types(e))
    assert fake_sentry.paths and all(path == "/api/1/envelope/" for path in fake_sentry.paths)

    # The report is useful: the exception's type, where it happened, the request's path and its id.
    exception = error["exception"]["values"][-1]
    assert exception["type"] == "PersonLookupError"
    assert "[redacted]" in exception["value"]
    frames = exception["stacktrace"]["frames"]
    assert any(frame.get("function") == "_look_up_person" for frame in frames)
    assert all("vars" not in frame for frame in frames), "frame variables are never sent"
    assert error["request"]["url"].endswith("/explode/")
    assert error["request"]["headers"]["User-Agent"] == "pytest-agent"
    assert error["tags"]["request_id"] == "edge-req-42" == headers["X-Request-ID"]
    assert "cookies" not in error["request"] and "data" not in error["request"]
    # The error log line inside the request became an event of its own, scrubbed the same way.
    assert any("verification failed" in json.dumps(event.get("logentry") or "") for event in events)

    assert_no_secret_in(fake_sentry.raw())


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("traces_sample_rate", [1.0])
def test_performance_spans_carry_no_secret_either(fake_sentry, db):
    request = RequestFactory().get(
        f"/shared/{TOKEN}/?email={EMAIL}&nik={NIK}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    status, headers = wsgi_call(request)
    assert status.startswith("200")

    sentry_sdk.flush(timeout=10)
    with fake_sentry.received:
        fake_sentry.received.wait_for(lambda: fake_sentry.bodies, timeout=10)
    raw = fake_sentry.raw()
    assert b'"type":"span"' in raw, raw[:500]
    assert b"/shared/{token}/" in raw  # the route names the request's span, not the path
    assert_no_secret_in(raw)


def test_a_failing_celery_task_reaches_the_reporter_without_personal_data(fake_sentry):
    with pytest.raises(TaskBlewUp):
        failing_task.apply(args=[NIK, EMAIL], throw=True)

    events = fake_sentry.wait_for(lambda found: any("TaskBlewUp" in exception_types(e) for e in found))
    event = next(e for e in events if "TaskBlewUp" in exception_types(e))
    assert event["exception"]["values"][-1]["mechanism"]["type"] == "celery"
    assert "[redacted]" in event["exception"]["values"][-1]["value"]

    assert_no_secret_in(fake_sentry.raw())


def test_a_captured_event_with_user_extra_and_breadcrumbs_is_scrubbed(fake_sentry):
    """What code might attach by hand: a user, extra data, tags, a breadcrumb."""
    with sentry_sdk.new_scope() as scope:
        scope.set_user({"id": 42, "email": EMAIL, "username": PHONE_LOCAL, "ip_address": "203.0.113.9"})
        scope.set_extra("payload", {"signature_key": MIDTRANS_SIGNATURE, "customer": {"phone": PHONE_E164}})
        scope.set_extra("note", f"OTP {OTP} sent to {PHONE_LOCAL}")
        scope.set_tag("contact", EMAIL)
        sentry_sdk.add_breadcrumb(category="auth", message=f"login code={OTP} for {EMAIL}", data={"nik": NIK})
        try:
            raise PersonLookupError(f"password={PASSWORD}")
        except PersonLookupError as error:
            sentry_sdk.capture_exception(error)

    events = fake_sentry.wait_for(lambda found: any(e.get("user") for e in found))
    event = next(e for e in events if e.get("user"))
    assert event["user"] == {"id": 42}

    assert_no_secret_in(fake_sentry.raw())
    assert "203.0.113.9" not in fake_sentry.raw().decode()


def test_reporting_is_off_without_a_dsn_and_on_with_one_under_the_production_settings():
    code = CHILD_PRELUDE + (
        "import django\ndjango.setup()\nimport sentry_sdk\n"
        "client = sentry_sdk.get_client()\n"
        "print('ACTIVE' if client.is_active() else 'INACTIVE', client.options.get('environment'))\n"
        "print(client.options['data_collection']['stack_frame_variables'], client.options['max_request_body_size'])\n"
    )
    off = run_child(code, environment=production_environment(SENTRY_DSN=None))
    assert off.returncode == 0, off.stderr
    assert off.stdout.startswith("INACTIVE"), off.stdout

    on = run_child(
        code,
        environment=production_environment(
            SENTRY_DSN="http://publickey@127.0.0.1:9/1", SENTRY_ENVIRONMENT="staging", SENTRY_TRACES_SAMPLE_RATE="0"
        ),
    )
    assert on.returncode == 0, on.stderr
    assert on.stdout.splitlines() == ["ACTIVE staging", "False never"], on.stdout


# --- the rules themselves (core/redaction.py), shared with the logs ---------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"NIK {NIK}",
        f"nik={NIK}",
        f"call {PHONE_E164} or {PHONE_LOCAL}",
        "0812-3456-7890 and 62 812 3456 7890",
        "whatsapp:+6281100000000",
        f"mail {EMAIL}",
        f"token={TOKEN}&x=1",
        f'{{"password": "{PASSWORD}"}}',
        f"{{'otp': '{OTP}'}}",
        f"OTP {OTP}",
        f"kode {OTP}",
        f"Authorization: Bearer {TOKEN}",
        f"signature_key={MIDTRANS_SIGNATURE}",
        f"digest {MIDTRANS_SIGNATURE}",
        "GET /shared/AbC123xyz/ HTTP/1.1",
        "/accounts/password/reset/key/1x-abc123def/",
        "/accounts/confirm-email/MTIz:1t9xyz:abcdef/",
        "/privacy/export/zz9QmW/",
    ],
)
def test_redact_removes_each_kind_of_secret(text):
    from core.redaction import redact

    cleaned = redact(text)
    assert "[redacted]" in cleaned
    for secret in (*SECRETS, "3456", "6281100000000", "AbC123xyz", "abc123def", "abcdef", "zz9QmW"):
        assert secret not in cleaned, cleaned


@pytest.mark.parametrize(
    "text",
    [
        "booking KMP-2026-0042 paid Rp 150000 at 2026-12-07 10:00",
        "request 0123456789abcdef0123456789abcdef done in 35 ms",
        "status_code=500",
        "password reset email sent",
        "task payments.tasks.reconcile_payments_task not queued (OperationalError)",
    ],
)
def test_redact_leaves_ordinary_lines_alone(text):
    from core.redaction import redact

    assert redact(text) == text


def test_redact_data_replaces_sensitive_keys_at_any_depth():
    from core.redaction import redact_data

    data = {
        "headers": {"Authorization": "x", "Cookie": "y", "X-CSRFToken": "z", "User-Agent": "ua"},
        "form": [{"phone_number": "1", "otpCode": "2", "city": "Bandung"}],
        "status_code": 500,
        "n": int(NIK),
        "note": f"hi {EMAIL}",
    }
    assert redact_data(data) == {
        "headers": {
            "Authorization": "[redacted]",
            "Cookie": "[redacted]",
            "X-CSRFToken": "[redacted]",
            "User-Agent": "ua",
        },
        "form": [{"phone_number": "[redacted]", "otpCode": "[redacted]", "city": "Bandung"}],
        "status_code": 500,
        "n": "[redacted]",
        "note": "hi [redacted]",
    }
