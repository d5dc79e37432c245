"""The broker Celery would use, as each settings module leaves it: never an accidental AMQP on localhost.

With CELERY_BROKER_URL empty, Celery's own fallback is amqp://guest@localhost. Tasks run in-process
then, but Celery still opens connections (an eager apply_async borrows a producer, and a process that
later switches eager mode off keeps that cached producer pool): the benchmark's WhatsApp tasks once went
to that AMQP instead of Redis. Each case starts Django from scratch in a subprocess, since the settings
read the environment once, at import, and asks the Celery app where it would connect (no connection is
opened: kombu connects lazily).
"""

from urllib.parse import urlsplit

import pytest

from tests.fresh_process import django_json

SCRIPT = """
from django.conf import settings
from config.celery import app
print(json.dumps({
    "setting": settings.CELERY_BROKER_URL,
    "eager": app.conf.task_always_eager,
    "write": app.connection_for_write().as_uri(),
    "read": app.connection_for_read().as_uri(),
}))
"""
NAMED_REDIS = "redis://127.0.0.1:6390/7"  # never contacted


def _where(uri: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(uri)
    return parts.scheme, parts.hostname, parts.port


def _broker_in_fresh_process(settings_module: str, tmp_path, **environment: str) -> dict:
    return django_json(
        SCRIPT,
        settings_module=settings_module,
        drop={"CELERY_BROKER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"},
        environment={"DATABASE_URL": f"sqlite:///{tmp_path / 'broker.sqlite3'}", **environment},  # never opened
    )


@pytest.mark.parametrize("settings_module", ["config.settings.dev", "config.settings.test", "config.settings.bench"])
def test_no_broker_named_means_in_process_tasks_and_an_in_memory_transport(settings_module, tmp_path):
    broker = _broker_in_fresh_process(settings_module, tmp_path)

    assert broker["setting"] == ""  # "no broker": /healthz skips its check
    assert broker["eager"] is True
    for direction in ("write", "read"):
        assert _where(broker[direction])[0] == "memory", broker


@pytest.mark.parametrize("settings_module", ["config.settings.dev", "config.settings.test"])
def test_redis_url_is_the_broker_when_set(settings_module, tmp_path):
    broker = _broker_in_fresh_process(settings_module, tmp_path, REDIS_URL=NAMED_REDIS)

    assert broker["setting"] == NAMED_REDIS
    for direction in ("write", "read"):
        assert _where(broker[direction]) == ("redis", "127.0.0.1", 6390), broker


@pytest.mark.parametrize("settings_module", ["config.settings.dev", "config.settings.test"])
def test_an_explicit_celery_broker_url_wins(settings_module, tmp_path):
    broker = _broker_in_fresh_process(
        settings_module, tmp_path, REDIS_URL=NAMED_REDIS, CELERY_BROKER_URL="redis://127.0.0.1:6391/3"
    )

    for direction in ("write", "read"):
        assert _where(broker[direction]) == ("redis", "127.0.0.1", 6391), broker


def test_the_bench_worker_talks_to_the_broker_it_is_given(tmp_path):
    """The notifications benchmark's worker (tests/bench/worker_settings.py): the bench settings are
    broker-less, the worker's must not inherit their in-memory connections."""
    broker = _broker_in_fresh_process(
        "tests.bench.worker_settings", tmp_path, BENCH_CELERY_BROKER_URL="redis://127.0.0.1:6392/2"
    )

    assert broker["eager"] is False
    for direction in ("write", "read"):
        assert _where(broker[direction]) == ("redis", "127.0.0.1", 6392), broker
