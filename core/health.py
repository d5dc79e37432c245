"""Health probes for /healthz: each returns None when healthy, else a short reason (no secrets)."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from kombu import Connection

from core.cache import CacheUnavailable, unguarded


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "down"; the type is the reason
        return type(error).__name__
    return None


def check_cache() -> str | None:
    """The cache answers for real: `unguarded()` turns off ResilientRedisCache's silent miss, so an
    outage (or the 1 s back-off after one) is reported by the error that caused it."""
    try:
        with unguarded():
            cache.set("healthz", "ok", timeout=10)
            if cache.get("healthz") != "ok":
                return "read-back mismatch"
    except CacheUnavailable as error:
        cause = error.__cause__
        return type(cause).__name__ if cause is not None else "CacheUnavailable"
    except Exception as error:  # noqa: BLE001
        return type(error).__name__
    return None


def check_broker() -> str | None:
    """None also when no broker is configured (tasks run in-process then)."""
    if not settings.CELERY_BROKER_URL:
        return None
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as error:  # noqa: BLE001
        return type(error).__name__
    return None
