"""The two log formats (LOG_FORMAT): "line" for people (dev, tests), "json" for production's log collector.

Both print the request id (core/request_id.py) and only what core/redaction.py left: `RedactSecretsFilter`
runs on the handler first, and tracebacks are redacted here too (python-json-logger renders a traceback from
the exception itself, not from the record's already redacted text).
"""

import logging

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from core.redaction import redact, redact_data

LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class LineFormatter(logging.Formatter):
    def __init__(self, fmt: str = LINE_FORMAT, *args, **kwargs) -> None:
        super().__init__(fmt, *args, defaults={"request_id": "-"}, **kwargs)

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return redact(super().formatStack(stack_info))


# Written by the formatter itself; the message and traceback are redacted already.
_OWN_FIELDS = frozenset({"timestamp", "level", "logger", "message", "request_id", "exc_info", "stack_info"})


def _is_plain(value) -> bool:
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_plain(item) for key, item in value.items())
    return False


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

    def process_log_record(self, log_data):
        """`extra=` fields are printed too (django.request's records carry the request, whose repr holds the
        query string): each goes through the same rules, objects as their text."""
        processed = super().process_log_record(log_data)
        own = {key: value for key, value in processed.items() if key in _OWN_FIELDS}
        extra = {key: value if _is_plain(value) else str(value) for key, value in processed.items() if key not in own}
        # By key too: extra={"email": ...} loses its value.
        return {**own, **redact_data(extra)}

    def formatException(self, ei) -> str:  # noqa: N802
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return redact(super().formatStack(stack_info))
