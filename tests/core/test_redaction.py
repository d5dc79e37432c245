"""The calendar-feed token never reaches a log line (Django, runserver or gunicorn's access log)."""

import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from core.redaction import RedactingGunicornLogger, RedactSecretsFilter, redact

TOKEN = "Zq3lK9s-secret-token_value"


def test_redact_hides_the_token_in_paths_and_request_lines():
    assert redact(f"GET /calendar/{TOKEN}.ics HTTP/1.1") == "GET /calendar/[redacted].ics HTTP/1.1"
    assert redact("/companions/?city=bandung") == "/companions/?city=bandung"


def test_the_logging_filter_rewrites_formatted_records():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /calendar/{TOKEN}.ics HTTP/1.1", 200, 512),
        None,
    )
    assert RedactSecretsFilter().filter(record) is True
    assert TOKEN not in record.getMessage()
    assert "/calendar/[redacted].ics" in record.getMessage()


def test_the_configured_handlers_redact(caplog):
    from django.conf import settings

    assert "redact_secrets" in settings.LOGGING["handlers"]["stdout"]["filters"]


def test_gunicorns_access_log_atoms_are_redacted():
    logger = RedactingGunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/calendar/{TOKEN}.ics",
        "PATH_INFO": f"/calendar/{TOKEN}.ics",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": "",
        "HTTP_REFERER": f"https://kompanion.id/calendar/{TOKEN}.ics",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    assert all(TOKEN not in str(value) for value in atoms.values())
    assert atoms["U"] == "/calendar/[redacted].ics"
