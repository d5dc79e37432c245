"""gunicorn's own error and access logs go through the app's formatter and redaction (config/gunicorn.py):
JSON in production, never a NIK or phone number."""

import json
import logging
import logging.config
import runpy
from pathlib import Path

from django.conf import settings

CONFIG = Path(settings.BASE_DIR) / "config" / "gunicorn.py"


def test_gunicorn_logs_are_json_in_production_and_redacted(monkeypatch, capsys):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.prod")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/kompanion-test-metrics")  # noqa: S108
    config = runpy.run_path(str(CONFIG))
    assert config["LOG_FORMAT"] == "json"
    saved = {name: logging.getLogger(name).handlers[:] for name in ("gunicorn.error", "gunicorn.access")}
    try:
        logging.config.dictConfig(config["logconfig_dict"])
        logging.getLogger("gunicorn.error").info("worker saw NIK 3174012345678901 from +6281234567890")
        logging.getLogger("gunicorn.access").info('"GET /search/?phone=081234567890 HTTP/1.1" 200')
    finally:
        for name, handlers in saved.items():
            logging.getLogger(name).handlers = handlers
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [line["logger"] for line in lines] == ["gunicorn.error", "gunicorn.access"]
    text = json.dumps(lines)
    assert "3174012345678901" not in text and "6281234567890" not in text and "081234567890" not in text
    assert "[redacted]" in lines[0]["message"]


def test_gunicorn_logs_are_lines_in_development(monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/kompanion-test-metrics")  # noqa: S108 (kept out of os.environ)
    assert runpy.run_path(str(CONFIG))["LOG_FORMAT"] == "line"
