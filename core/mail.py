"""Sending email at least once (notifications' deliveries, accounts' emails): what an SMTP failure means,
a Message-ID that stays the same on every attempt, and a connection that cannot hang.

A resend after a lost answer is expected: the server may have taken the message before the connection
dropped. The Message-ID is set by us, the same on every attempt, so mail clients fold the duplicate.
"""

import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

# EMAIL_TIMEOUT unset would let a silent server hold a worker until Celery's time limit; an attempt that
# hangs longer than this is given up and retried (far below notifications' SENDING_STALE_AFTER).
DEFAULT_SEND_TIMEOUT_SECONDS = 20


def connection() -> BaseEmailBackend:
    """The configured backend with a network timeout (EMAIL_TIMEOUT when set)."""
    return get_connection(timeout=settings.EMAIL_TIMEOUT or DEFAULT_SEND_TIMEOUT_SECONDS)


def message_id(local_part: str) -> str:
    """`<local_part@site host>`: the caller gives a part that is unique and stable for the message."""
    return f"<{local_part}@{urlsplit(settings.SITE_URL).hostname or 'localhost'}>"


def smtp_code(error: OSError) -> int | None:
    """The server's reply code behind a failure, when it gave one (None: no answer, e.g. a timeout)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return max(codes) if codes else None
    return getattr(error, "smtp_code", None)


def smtp_failure_is_permanent(error: OSError) -> bool:
    """True when sending again cannot help: the server refused the recipient (every one of them) or this
    message with a 5xx reply. Everything else is transient: a 4xx reply, a refused or dropped connection,
    a timeout, and our own login or sender address refused (ours to fix; the message is still wanted)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    return False
