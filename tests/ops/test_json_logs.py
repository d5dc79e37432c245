"""Production logs are JSON, one object per line, with the request id and without personal data (issue 19).

The format is chosen by LOG_FORMAT ("json" by default under the production settings, "line" elsewhere). The
production cases run in a fresh interpreter under config.settings.prod (settings load once per process),
logging through the handler the settings configure, to the real stdout.
"""

import copy
import io
import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from tests.test_deploy import CHILD_PRELUDE, production_environment, run_child

NIK = "3174012345678901"
EMAIL = "budi.santoso@example.com"
PHONE = "+6281234567890"

LOG_FROM_PRODUCTION = CHILD_PRELUDE + (
    "import django, logging\n"
    "django.setup()\n"
    "from core.request_id import _current\n"
    "_current.set('req-from-proxy-1')\n"
    f"logging.getLogger('kompanion.check').warning('KTP %s of %s checked', '{NIK}', '{EMAIL}')\n"
    "try:\n"
    f"    raise ValueError('bad phone {PHONE}')\n"
    "except ValueError:\n"
    "    logging.getLogger('kompanion.check').exception('verification failed')\n"
)


def test_production_logs_one_json_object_per_line_with_the_request_id_and_nothing_personal():
    result = run_child(LOG_FROM_PRODUCTION, environment=production_environment(LOG_FORMAT=None))
    assert result.returncode == 0, result.stderr

    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2, result.stdout
    first, second = records
    assert {"timestamp", "level", "logger", "message", "request_id"} <= set(first)
    assert first["level"] == "WARNING" and first["logger"] == "kompanion.check"
    assert first["request_id"] == "req-from-proxy-1"
    assert first["message"] == "KTP [redacted] of [redacted] checked"
    assert first["timestamp"].startswith("20") and first["timestamp"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: bad phone [redacted]" in second["exc_info"]
    for secret in (NIK, EMAIL, PHONE):
        assert secret not in result.stdout


def test_production_can_log_lines_instead():
    result = run_child(LOG_FROM_PRODUCTION, environment=production_environment(LOG_FORMAT="line"))
    assert result.returncode == 0, result.stderr

    first = result.stdout.splitlines()[0]
    assert first.endswith("WARNING kompanion.check [req-from-proxy-1] KTP [redacted] of [redacted] checked")
    assert NIK not in result.stdout and PHONE not in result.stdout


def test_an_unknown_log_format_is_refused():
    result = run_child(CHILD_PRELUDE + "import config.wsgi\n", environment=production_environment(LOG_FORMAT="xml"))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "LOG_FORMAT" in result.stderr


def test_dev_and_tests_default_to_lines():
    assert settings.LOG_FORMAT == ""
    assert settings.LOGGING["handlers"]["stdout"]["formatter"] == "line"


# --- in this process: the configured handler, switched to JSON, through a real request -------------------


def logging_view(request):
    logging.getLogger("kompanion.view").warning("looked up NIK %s for %s", NIK, EMAIL)
    return HttpResponse("ok")


def refusing_view(request):
    return HttpResponse("no", status=400)


urlpatterns = [path("log/", logging_view), path("refuse/", refusing_view)]


@pytest.fixture
def json_stdout():
    """settings.LOGGING as configured, with its handler in the JSON format and writing to a buffer."""
    stream = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["stdout"]["formatter"] = "json"
    config["handlers"]["stdout"]["stream"] = stream
    config["root"]["level"] = "INFO"
    logging.config.dictConfig(config)
    try:
        yield stream
    finally:
        logging.config.dictConfig(settings.LOGGING)


@override_settings(ROOT_URLCONF=__name__)
def test_a_request_logs_json_with_its_id_and_the_nik_redacted(json_stdout):
    response = Client().get("/log/", headers={"X-Request-ID": "req-json-9"})
    assert response.status_code == 200

    [record] = [json.loads(line) for line in json_stdout.getvalue().splitlines() if "kompanion.view" in line]
    assert record["request_id"] == "req-json-9" == response["X-Request-ID"]
    assert record["message"] == "looked up NIK [redacted] for [redacted]"
    assert NIK not in json_stdout.getvalue() and EMAIL not in json_stdout.getvalue()


@override_settings(ROOT_URLCONF=__name__)
def test_the_request_object_djangos_records_carry_is_redacted_too(json_stdout):
    """django.request's records carry the request (its repr has the query string) as an extra field."""
    response = Client().get(f"/refuse/?email={EMAIL}&nik={NIK}")
    assert response.status_code == 400

    [record] = [json.loads(line) for line in json_stdout.getvalue().splitlines() if "django.request" in line]
    assert record["message"] == "Bad Request: /refuse/" and record["status_code"] == 400
    assert "/refuse/" in record["request"]
    assert NIK not in json_stdout.getvalue() and EMAIL not in json_stdout.getvalue()
