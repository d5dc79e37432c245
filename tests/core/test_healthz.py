"""/healthz: what load balancers and orchestrators probe. JSON, 200 when every dependency answers, else 503."""

import json
import os

import pytest
from django.conf import settings

from tests.conftest import requires_redis
from tests.fresh_process import django_json

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"
SECRET_BROKER_URL = "redis://:Br0ker-Pa55word-xyz@127.0.0.1:1/0"
LOCMEM_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def closed_port_redis_cache(location: str = CLOSED_PORT_REDIS) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }


def get_healthz(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response, response.json()


@pytest.mark.django_db
def test_healthy_without_a_broker_skips_the_broker_check(client, settings):
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = LOCMEM_CACHE

    response, body = get_healthz(client)

    assert response.status_code == 200
    assert body == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "skipped"}}


@pytest.mark.django_db
def test_healthy_in_this_environment(client):
    """As configured by the environment: with REDIS_URL (CI) the cache and broker are Redis and must be up."""
    response, body = get_healthz(client)

    assert response.status_code == 200
    expected_broker = "ok" if settings.CELERY_BROKER_URL else "skipped"
    assert body == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": expected_broker}}


@requires_redis
@pytest.mark.django_db
def test_healthy_with_redis_as_cache_and_broker(client, settings):
    settings.CACHES = closed_port_redis_cache(os.environ["REDIS_URL"])
    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]

    response, body = get_healthz(client)

    assert response.status_code == 200
    assert body == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_unreachable_cache_and_broker_give_503(client, settings):
    settings.CACHES = closed_port_redis_cache()
    settings.CELERY_BROKER_URL = CLOSED_PORT_REDIS

    response, body = get_healthz(client)

    assert response.status_code == 503
    assert body["status"] == "error"
    assert body["checks"] == {"database": "ok", "cache": "down", "broker": "down"}
    assert set(body["errors"]) == {"cache", "broker"}
    assert all(isinstance(reason, str) and reason for reason in body["errors"].values())


@pytest.mark.django_db
def test_response_never_reveals_the_broker_url_or_password(client, settings):
    settings.CACHES = closed_port_redis_cache(SECRET_BROKER_URL)
    settings.CELERY_BROKER_URL = SECRET_BROKER_URL

    response, body = get_healthz(client)

    assert response.status_code == 503
    content = response.content.decode()
    for secret in ("Br0ker-Pa55word-xyz", SECRET_BROKER_URL, "127.0.0.1:1", "redis://"):
        assert secret not in content


@pytest.mark.django_db
def test_not_cached_and_no_trailing_slash_redirect(client, settings):
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = LOCMEM_CACHE

    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert client.get("/healthz/").status_code == 404  # no APPEND_SLASH-style redirect either way


@pytest.mark.django_db
def test_only_get(client):
    assert client.post("/healthz").status_code == 405


def _healthz_in_fresh_process(tmp_path, **env_overrides) -> tuple[int, dict]:
    """Start Django from scratch in a subprocess with the given environment and GET /healthz there."""
    script = (
        "from django.test import Client\n"
        "response = Client().get('/healthz')\n"
        "print(json.dumps({'status': response.status_code, 'body': response.json()}))\n"
    )
    # Never the developer's db.sqlite3: a throwaway file unless CI's PostgreSQL is configured.
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'healthz.sqlite3'}"
    result = django_json(
        script,
        settings_module="config.settings.test",
        drop={"CELERY_BROKER_URL", "DATABASE_URL"},
        environment={"DATABASE_URL": database, **env_overrides},
    )
    return result["status"], result["body"]


def test_fresh_process_with_redis_url_on_a_closed_port_reports_503(tmp_path):
    status, body = _healthz_in_fresh_process(tmp_path, REDIS_URL=CLOSED_PORT_REDIS)

    assert status == 503
    assert body["checks"] == {"database": "ok", "cache": "down", "broker": "down"}


def test_fresh_process_with_an_unreachable_database_reports_503(tmp_path):
    """The database check without touching the test database: a separate process pointed at a closed port."""
    status, body = _healthz_in_fresh_process(
        tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:1/kompanion_healthz", REDIS_URL=""
    )

    assert status == 503
    assert body["checks"] == {"database": "down", "cache": "ok", "broker": "skipped"}
    assert "127.0.0.1:1" not in json.dumps(body)
