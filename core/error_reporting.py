"""Error reporting through sentry-sdk (Sentry or a self-hosted GlitchTip): off unless SENTRY_DSN is set.

`init_error_reporting()` is called by the settings (config/settings/base.py) when SENTRY_DSN is set, in the web
processes and in the Celery worker and beat alike (both load the Django settings), with the Django and Celery
integrations.

Nothing personal leaves, by the same rules as our logs (core/redaction.py, one rule in one place):

- What the SDK collects is restricted first (`data_collection`): no user identity beyond what we set, no
  cookies, only harmless request headers (an allowlist: no Authorization, Cookie, CSRF or Twilio signature
  header), no request or response bodies (chat messages, safety reports, names and addresses are free text
  no pattern can recognise), no SQL parameters, no queue payloads, and no frame local variables.
- Local variables are off, not scrubbed: a local can hold anything under any name (a decrypted NIK in
  `value`, an OTP in `cleaned`, a model instance, a form's cleaned_data), and the SDK cuts long values, which
  could leave part of a number no pattern recognises. The stack (files, functions, lines, source context)
  is kept.
- Then every event, breadcrumb, span and log passes through `redact_data()` before it is sent: exception
  messages, log messages and their parameters, the URL and query string, headers, extra, contexts, tags and
  breadcrumbs lose NIKs, phone numbers, emails, tokens, codes, credentials and signatures, and every value
  under a sensitive key (token, password, code, cookie, session, csrf, authorization, signature, nik, phone,
  email...) is replaced. The user keeps only the numeric id. Whatever is left of cookies, bodies and frame
  variables is dropped.
- The request id (core/request_id.py) is added as a tag, to find the event's log lines.
"""

from __future__ import annotations

import logging
from typing import Any

from core.redaction import redact, redact_data
from core.request_id import current_request_id

# Request headers that are sent (substring match, case-insensitive); every other header is "[Filtered]".
SAFE_HEADERS = [
    "accept",
    "content-type",
    "content-length",
    "user-agent",
    "host",
    "x-request-id",
    "hx-request",
    "hx-target",
    "hx-trigger",
    "x-forwarded-proto",
]
# Query parameters whose values the SDK itself filters before ours run (ours then redact the rest by pattern).
SENSITIVE_QUERY_TERMS = ["token", "code", "otp", "key", "signature", "email", "phone", "nik", "password", "session"]

DATA_COLLECTION = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {"request": {"mode": "allowlist", "terms": SAFE_HEADERS}},
    "http_bodies": [],
    "url_query_params": {"mode": "denylist", "terms": SENSITIVE_QUERY_TERMS},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": False,
}

# Event fields written by the SDK itself: ids, timestamps, versions. Never personal, and the ids must stay intact.
_STRUCTURAL = frozenset(
    {
        "event_id",
        "timestamp",
        "start_timestamp",
        "received",
        "platform",
        "level",
        "type",
        "sdk",
        "modules",
        "release",
        "dist",
        "environment",
        "server_name",
        "fingerprint",
    }
)


def _plain(value: Any) -> Any:
    """JSON-like data: other objects (a request, a model instance left in a breadcrumb's data) become their repr,
    so the patterns see what the SDK would otherwise serialise."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return repr(value)


def _scrub(value: Any) -> Any:
    return redact_data(_plain(value))


def _numeric_user(user: Any) -> dict | None:
    user_id = user.get("id") if isinstance(user, dict) else None
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        return {"id": user_id}
    if isinstance(user_id, str) and user_id.isdigit():
        return {"id": user_id}
    return None


def _drop_frame_variables(event: dict) -> None:
    values = (event.get("exception") or {}).get("values") or []
    threads = (event.get("threads") or {}).get("values") or []
    for holder in [*values, *threads]:
        for frame in ((holder or {}).get("stacktrace") or {}).get("frames") or []:
            if isinstance(frame, dict):
                frame.pop("vars", None)


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """before_send: the event without personal data (see the module docstring)."""
    scrubbed = {key: value if key in _STRUCTURAL else _scrub(value) for key, value in event.items()}
    _drop_frame_variables(scrubbed)
    if "user" in event:
        user = _numeric_user(event.get("user"))
        if user:
            scrubbed["user"] = user
        else:
            scrubbed.pop("user")
    request = scrubbed.get("request")
    if isinstance(request, dict):
        for key in ("cookies", "data", "env"):
            request.pop(key, None)
    request_id = current_request_id()
    if request_id:
        tags = scrubbed.get("tags")
        if isinstance(tags, dict):
            tags["request_id"] = request_id
        elif isinstance(tags, list):
            tags.append(["request_id", request_id])
        else:
            scrubbed["tags"] = {"request_id": request_id}
    return scrubbed


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    """before_breadcrumb: log lines, SQL, HTTP calls and Celery steps recorded before an error."""
    return {key: value if key in ("timestamp", "type", "level") else _scrub(value) for key, value in crumb.items()}


def _scrub_attributes(attributes: dict) -> dict:
    """The SDK's own attributes (sentry.release, a commit hash) kept; every other one scrubbed."""
    return {
        key: value if isinstance(key, str) and key.startswith("sentry.") else _scrub({key: value})[key]
        for key, value in attributes.items()
    }


def scrub_span(span: dict, hint: dict | None = None) -> dict:
    """before_send_span (performance data, when SENTRY_TRACES_SAMPLE_RATE > 0): its name and attributes."""
    if isinstance(span.get("name"), str):
        span["name"] = redact(span["name"])
    if isinstance(span.get("attributes"), dict):
        span["attributes"] = _scrub_attributes(span["attributes"])
    return span


def scrub_log(log: dict, hint: dict | None = None) -> dict:
    """before_send_log (Sentry Logs, if ever enabled): the body and attributes."""
    if isinstance(log.get("body"), str):
        log["body"] = redact(log["body"])
    if isinstance(log.get("attributes"), dict):
        log["attributes"] = _scrub_attributes(log["attributes"])
    return log


def init_error_reporting(*, dsn: str, environment: str = "", traces_sample_rate: float = 0.0) -> None:
    """Starts sentry-sdk with our integrations and scrubbers. Nothing is sent when `dsn` is empty."""
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        traces_sample_rate=traces_sample_rate,
        # Log records at ERROR and above (a logger.exception in a handled failure) are events too, as they were
        # before sentry-sdk 3 turned that off by default; INFO and above are breadcrumbs. No "Sentry Logs":
        # our logs go to stdout and the log collector (and a record's extras can be whole request objects).
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            LoggingIntegration(level=None, event_level=logging.ERROR, breadcrumb_level=logging.INFO),
        ],
        data_collection=DATA_COLLECTION,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        before_send_span=scrub_span,
        before_send_log=scrub_log,
    )
