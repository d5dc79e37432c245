"""Settings of the soak (tests/soak/run.py): the bench settings (production-like: DEBUG off, cached
templates, hashed static files, the Redis cache) on a database, Redis databases and files of the soak's own,
with a real broker and eager mode off, so that what the web enqueues runs in the soak's Celery worker as in
production. gunicorn, the worker and the runner itself all use this module.

Plain HTTP on 127.0.0.1 instead of bench.py's proxied HTTPS: the payment simulator posts its notification
to the webhook at request.build_absolute_uri(), which must reach this same gunicorn (no TLS proxy runs here),
and browsers' "__Host-" secure cookies would not come back over plain HTTP.

SOAK_DATABASE_URL (its name must contain "soak"), SOAK_REDIS_URL (cache), SOAK_BROKER_URL and
SOAK_CELERY_QUEUE (the worker's private queue), SOAK_ROOT (media, static files, logs), SOAK_PLAIN_STATIC."""

import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.settings.bench import *  # noqa: F403
from config.settings.bench import env

DATABASES = {
    "default": env.db_url_config(
        env.str("SOAK_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/kompanion_soak")
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("The soak needs PostgreSQL (SOAK_DATABASE_URL=postgres://...).")
# The runner drops and recreates this database on --reseed: never let it point at dev, CI or production.
if "soak" not in DATABASES["default"]["NAME"]:
    raise ImproperlyConfigured("SOAK_DATABASE_URL must name a database containing 'soak'.")
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = []  # one database, no replica

SOAK_REDIS_URL = env.str("SOAK_REDIS_URL", default="redis://127.0.0.1:6379/12")
CACHES = {
    "default": {
        "BACKEND": "core.cache.ResilientRedisCache",
        "LOCATION": SOAK_REDIS_URL,
        "KEY_PREFIX": "kompanion-soak",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

CELERY_BROKER_URL = env.str("SOAK_BROKER_URL", default="redis://127.0.0.1:6379/13")
CELERY_BROKER_READ_URL = CELERY_BROKER_WRITE_URL = None
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = env.str("SOAK_CELERY_QUEUE", default="kompanion-soak")

# Plain HTTP (see above): no redirect to HTTPS, no proxy header, ordinary cookie names.
SECURE_SSL_REDIRECT = False
SECURE_PROXY_SSL_HEADER = None
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_NAME = "sessionid"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_NAME = "csrftoken"
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
# Every virtual user comes from 127.0.0.1: the per-address limits would measure the limiter, not the site.
ACCOUNT_RATE_LIMITS = False

SOAK_ROOT = Path(env.str("SOAK_ROOT", default=str(Path(tempfile.gettempdir()) / "kompanion-soak")))
BENCH_ROOT = SOAK_ROOT  # tests/bench/seed.py's photo files go here too
MEDIA_ROOT = SOAK_ROOT / "media"
PRIVATE_MEDIA_ROOT = SOAK_ROOT / "private_media"
STATIC_ROOT = SOAK_ROOT / "static"
# SOAK_PLAIN_STATIC=1 (the smoke test): unhashed static URLs, so that no collectstatic is needed (locust
# fetches no static file); the full soak keeps production's hashed, compressed files.
SOAK_PLAIN_STATIC = env.bool("SOAK_PLAIN_STATIC", default=False)
STORAGES = {
    **STORAGES,  # noqa: F405
    **(
        {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        if SOAK_PLAIN_STATIC
        else {}
    ),
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
}
