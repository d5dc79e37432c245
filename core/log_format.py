"""The two log formats (LOG_FORMAT): "line" for people (dev, tests), "json" for production's log collector.

Both print the request id (core/request_id.py) and only what core/redaction.py left: `RedactSecretsFilter`
runs on the handler first, and tracebacks are redacted here too (python-json-logger renders a traceback from
the exception itself, not from the record's already redacted text).
"""

import logging

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from core.redaction import redact

LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class LineFormatter(logging.Formatter):
    def __init__(self, fmt: str = LINE_FORMAT, *args, **kwargs) -> None:
        super().__init__(fmt, *args, defaults={"request_id": "-"}, **kwargs)

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return redact(super().formatStack(stack_info))


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: timestamp (ISO 8601, UTC), level, logger, message, request_id, and any
    `extra=` fields; a traceback as exc_info."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data, record, message_dict) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.setdefault("request_id", getattr(record, "request_id", None) or "-")

    def formatException(self, ei) -> str:  # noqa: N802
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return redact(super().formatStack(stack_info))
