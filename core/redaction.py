"""Secrets that travel in URLs never reach the logs.

The only secret we put in a URL is the companion's calendar-feed token (calendar apps cannot send
headers). Access logs (gunicorn, runserver) and Django's request logs print paths, so both go through
`redact()`: a logging filter on our handlers, and a gunicorn logger class for its access log.
"""

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

_SECRET_PATHS = re.compile(r"(/calendar/)[^/\s?\"']+(\.ics)")


def redact(text: str) -> str:
    return _SECRET_PATHS.sub(r"\1[redacted]\2", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites the formatted message of every record that passes through the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn --logger-class core.redaction.RedactingGunicornLogger"""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Every atom, not only the path: gunicorn also exposes headers and the WSGI environ as atoms.
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
