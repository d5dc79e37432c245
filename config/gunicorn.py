"""Gunicorn's configuration file (the Dockerfile's CMD: --config config/gunicorn.py); the command line
still sets everything else and wins over this file.

Prometheus in multi-process mode (issue 19): each worker writes its figures to files in
PROMETHEUS_MULTIPROC_DIR and /metrics adds them up (core/metrics.py). The variable is set here, in the
master, before any worker imports prometheus_client (an operator's own value wins); the directory is
emptied when the master starts (the files of an earlier run would be counted forever), and a worker's files
are marked dead when it exits (max-requests recycles workers), so its live gauges stop counting while its
counters are kept.
"""

import os
from pathlib import Path

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/dev/shm/kompanion-metrics")  # noqa: S108 - a tmpfs


def on_starting(server) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# gunicorn's own error and access logs in the app's format (JSON in production: LOG_FORMAT, or prod settings'
# default), through the same redaction filter as every other log line (core/redaction.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT") or (
    "json" if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".prod") else "line"
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"()": "core.log_format.LineFormatter"},
        "json": {"()": "core.log_format.JsonFormatter"},
    },
    "filters": {"redact_secrets": {"()": "core.redaction.RedactSecretsFilter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT if LOG_FORMAT in ("line", "json") else "line",
            "filters": ["redact_secrets"],
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}
