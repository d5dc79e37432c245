"""Personal data and secrets never leave through the logs or the error reporter: one set of rules, here.

`redact(text)` rewrites a text; `redact_data(value)` walks dicts, lists and tuples, and replaces the whole
value of a sensitive key ("password", "token", "Authorization", "sessionid", "nik", "phone"...). Both are
pure functions used by:

- `RedactSecretsFilter`, the logging filter on our handlers (the message and any traceback);
- `RedactingGunicornLogger`, gunicorn's access log;
- core/error_reporting.py, everything sent to Sentry / GlitchTip (events, breadcrumbs, spans).

What a text loses:

- secrets in URL paths: the calendar-feed token (calendar apps cannot send headers), the safety share link,
  the data-export download link, allauth's password-reset and email-confirmation keys;
- NIK (16-digit Indonesian ID numbers, and any 16-digit number: card numbers too);
- phone numbers (Indonesian 08.../+62.../62..., any +E.164 number, "whatsapp:+...");
- email addresses;
- `name=value` / `name: value` pairs whose name is sensitive (token=..., "password": "...", code=123456,
  otp: 123456) and a sensitive word followed by a value with a digit in it ("OTP 123456", "kode 123456");
- "Bearer ..." / "Basic ..." credentials, and long hex digests (40+ hex characters: Midtrans' SHA-512
  signature_key, SHA-1/SHA-256 HMACs).

Over-redaction is the safe side: a log line that loses a number is still a log line.
"""

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

REDACTED = "[redacted]"

# Words that make a key (or the name in name=value) sensitive. A key is split into words (snake_case,
# kebab-case, camelCase, dotted) and is sensitive when one of its words is in this set.
SENSITIVE_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "otp",
        "totp",
        "code",
        "kode",
        "pin",
        "nik",
        "ktp",
        "phone",
        "msisdn",
        "whatsapp",
        "email",
        "signature",
        "authorization",
        "auth",
        "cookie",
        "cookies",
        "session",
        "sessionid",
        "csrf",
        "csrftoken",
        "csrfmiddlewaretoken",
        "xsrf",
        "key",
        "apikey",
        "dsn",
        "credentials",
        "jwt",
        "bearer",
    }
)
# Keys that contain a sensitive word but are plainly not secret.
_HARMLESS_KEYS = frozenset({"status_code", "statuscode", "exit_code", "error_code", "response_code"})

_SECRET_PATHS = re.compile(
    r"(/calendar/)[^/\s?\"']+(\.ics)"
    r"|(/shared/)[^/\s?\"'#]+"
    r"|(/privacy/export/)[^/\s?\"'#]+"
    r"|(/password/reset/key/)[^/\s?\"'#]+"
    r"|(/confirm-email/)[^/\s?\"'#]+"
)
_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
# Indonesian mobile numbers (08..., +62 8..., 62 8...), with or without spaces, dashes and dots.
_PHONE_ID = re.compile(r"(?<![\w+])(?:\+62|62|0)[ .-]?8\d{1,3}(?:[ .-]?\d{2,4}){2,3}(?!\d)")
# Any international number in E.164 form (Twilio's "whatsapp:+628..." included).
_PHONE_E164 = re.compile(r"\+\d(?:[ .-]?\d){7,14}(?!\d)")
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_AUTH_SCHEME = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)
_LONG_HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{40,}(?![0-9A-Za-z])")
_SENSITIVE_NAME = "|".join(sorted(SENSITIVE_WORDS, key=len, reverse=True))
# name=value, name: value, "name": "value", 'name': 'value' (in a query string, a repr, JSON, a sentence).
_PAIR = re.compile(
    rf"(?<![A-Za-z])((?:[A-Za-z]+[_-])*(?:{_SENSITIVE_NAME})(?:[_-][A-Za-z]+)*)([\"']?\s*(?:=|:(?!:))\s*[\"']?)"
    r"([^\s,;&\"'}\])]+)",
    re.IGNORECASE,
)
# A sensitive word, then a value with a digit in it: "OTP 123456", "kode verifikasi 123456" is not caught,
# "kode 123456" is.
_WORD_THEN_VALUE = re.compile(
    rf"(?<![A-Za-z])((?:{_SENSITIVE_NAME})\s+)(?=[^\s,;&\"']*\d)([^\s,;&\"'}}\])]{{4,}})",
    re.IGNORECASE,
)


def _secret_path(match: re.Match) -> str:
    groups = match.groups()
    if groups[0]:
        return f"{groups[0]}{REDACTED}{groups[1]}"
    prefix = next(group for group in groups[2:] if group)
    return f"{prefix}{REDACTED}"


def _pair(match: re.Match) -> str:
    name, separator, value = match.groups()
    if name.lower().replace("-", "_") in _HARMLESS_KEYS:
        return match.group(0)
    return f"{name}{separator}{REDACTED}"


def redact(text: str) -> str:
    """`text` without secrets in paths, NIKs, phone numbers, emails, credentials and sensitive name=value pairs."""
    if not text:
        return text
    text = _SECRET_PATHS.sub(_secret_path, text)
    text = _AUTH_SCHEME.sub(lambda match: f"{match.group(1)} {REDACTED}", text)
    text = _PAIR.sub(_pair, text)
    text = _WORD_THEN_VALUE.sub(lambda match: f"{match.group(1)}{REDACTED}", text)
    text = _EMAIL.sub(REDACTED, text)
    text = _NIK.sub(REDACTED, text)
    text = _PHONE_ID.sub(REDACTED, text)
    text = _PHONE_E164.sub(REDACTED, text)
    return _LONG_HEX.sub(REDACTED, text)


def is_sensitive_key(key: Any) -> bool:
    """Whether a dict key (a header, cookie, form field, variable or JSON name) holds a secret or personal data."""
    if not isinstance(key, str):
        return False
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower().replace("-", "_")
    # "http.response.status_code"; OpenTelemetry's "code.*" attributes are the source location.
    if spaced.rsplit(".", 1)[-1] in _HARMLESS_KEYS or spaced.startswith("code."):
        return False
    return any(word in SENSITIVE_WORDS for word in re.split(r"[^a-z0-9]+", spaced) if word)


def redact_data(value: Any) -> Any:
    """A copy of `value` with every string redacted and every sensitive key's value replaced (recursively)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            key: (REDACTED if is_sensitive_key(key) and value[key] not in (None, "") else redact_data(value[key]))
            for key in value
        }
    if isinstance(value, list):
        return [redact_data(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_data(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool) and _NIK.fullmatch(str(abs(value))):
        return REDACTED  # a NIK (or card number) kept as a number
    return value


class RedactSecretsFilter(logging.Filter):
    """Rewrites the formatted message of every record that passes through the handler, and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            # Formatters print exc_text when set (ours: core/log_format.py redacts its own rendering too).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn --logger-class core.redaction.RedactingGunicornLogger"""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Every atom, not only the path: gunicorn also exposes headers and the WSGI environ as atoms.
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
