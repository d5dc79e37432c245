"""A Redis that is down: the cache (as production configures it) and the Celery broker pointed at a
port nothing listens on."""

import contextlib
import runpy
import socket

from django.test import override_settings

from config.celery import app as celery_app
from config.settings import base as base_settings


def dead_redis_url(db: int = 0) -> str:
    """A local port that refuses connections: bound, then closed, so nothing listens on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/{db}"


def production_settings(monkeypatch, redis_url: str) -> dict:
    """config/settings/base.py as production evaluates it (REDIS_URL set): its CACHES and session engine."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    return runpy.run_path(base_settings.__file__)


@contextlib.contextmanager
def redis_down(monkeypatch):
    """Production's cache and broker settings, with Redis down. Django resets its cache handler when
    CACHES changes (django.test.signals), so every `cache` use inside sees the dead one; the Celery app
    is configured once, so its broker and eager mode are switched by hand (and its pools dropped)."""
    url = dead_redis_url()
    production = production_settings(monkeypatch, url)
    caches = {"default": {**production["CACHES"]["default"], "KEY_PREFIX": "kompanion-outage-test"}}
    saved = {name: celery_app.conf[name] for name in ("broker_url", "task_always_eager")}
    with override_settings(
        CACHES=caches,
        SESSION_ENGINE=production["SESSION_ENGINE"],
        CELERY_BROKER_URL=url,
        CELERY_TASK_ALWAYS_EAGER=False,
    ):
        celery_app.conf.update(broker_url=url, task_always_eager=False)
        _drop_broker_pools()
        try:
            yield url
        finally:
            celery_app.conf.update(saved)
            _drop_broker_pools()


def _drop_broker_pools() -> None:
    """The app keeps a connection pool and a producer pool made from the broker URL it saw first: drop
    both (as Celery does after a fork) so the next publish uses the URL now configured."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
