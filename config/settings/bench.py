"""`make bench` (tests/bench/run.py): production-like settings against a SEPARATE benchmark database.

Same code paths as prod.py (DEBUG off, so Django's cached template loader; hashed and compressed static
files; Redis cache; the proxy/HTTPS settings, with the bench client sending X-Forwarded-Proto as the TLS
proxy would), but with fixed throwaway secrets and data kept apart from dev, CI and production:
PostgreSQL from BENCH_DATABASE_URL (its name must contain "bench"), Redis database 2 under a prefix of
its own, media and static files under BENCH_ROOT. Adds tests.bench.middleware.ServerTimingMiddleware.
"""

import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import MIDDLEWARE, env

DEBUG = False
SECRET_KEY = "bench-only-key-not-secret-never-used-outside-make-bench-0123456789"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

BENCH_DATABASE_URL = env.str("BENCH_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/kompanion_bench")
DATABASES = {"default": env.db_url_config(BENCH_DATABASE_URL)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("The benchmark needs PostgreSQL (BENCH_DATABASE_URL=postgres://...).")
# The seeder drops and recreates this database on --reseed: never let it point at dev, CI or production.
if "bench" not in DATABASES["default"]["NAME"]:
    raise ImproperlyConfigured("BENCH_DATABASE_URL must name a database containing 'bench'.")
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Redis like production, in a database of its own; an empty BENCH_REDIS_URL means an in-process cache.
BENCH_REDIS_URL = env.str("BENCH_REDIS_URL", default="redis://127.0.0.1:6379/2")
if BENCH_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",  # production's cache
            "LOCATION": BENCH_REDIS_URL,
            "KEY_PREFIX": "kompanion-bench",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Pages under test send nothing; no broker, so /healthz checks only the database and the cache. Tasks
# run in-process; any connection Celery still opens is in memory, never amqp://localhost (as base.py does
# when no broker is named; restated here because base.py decided from the environment's REDIS_URL).
CELERY_BROKER_URL = ""
CELERY_BROKER_READ_URL = CELERY_BROKER_WRITE_URL = "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = True
# The broker of the bench's own Celery traffic, always named: the notifications scenario's worker and its
# producer, and the payments scenario's webhook (tests/bench/worker_settings.py, webhook_settings.py).
# Redis only (the bench deletes its private queues there); by default BENCH_REDIS_URL's database.
BENCH_BROKER_URL = env.str("BENCH_BROKER_URL", default=BENCH_REDIS_URL)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seeding 20,000 users; bench only
FIELD_ENCRYPTION_KEYS = ["YmVuY2gtb25seS1mZXJuZXQta2V5LTMyLWJ5dGVzISE="]
FIELD_FINGERPRINT_KEY = "bench-only-fingerprint-key"

# The payments scenario (tests/bench/payments.py) signs its Midtrans notifications with this key and
# posts 10,000 of them from one address. PAYMENT_GATEWAY stays "simulator" (base.py): the webhook never
# calls the gateway.
MIDTRANS_SERVER_KEY = "bench-only-midtrans-server-key-not-secret"  # noqa: S105
# The webhook's per-address limit (core/ratelimit.py), raised so that it never refuses the bench; the
# limiter still runs on every request.
PAYMENT_WEBHOOK_RATE_PER_MINUTE = 10_000_000

# The rendered-page cache's lifetime in the bench's "warm" mode (tests/bench/run.py); "off" sets 0.
BENCH_WARM_PAGE_CACHE_SECONDS = 600

BENCH_ROOT = Path(env.str("BENCH_ROOT", default=str(Path(tempfile.gettempdir()) / "kompanion-bench")))
MEDIA_ROOT = BENCH_ROOT / "media"
PRIVATE_MEDIA_ROOT = BENCH_ROOT / "private_media"
STATIC_ROOT = BENCH_ROOT / "static"  # tests/bench/run.py runs collectstatic into it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# As in production: behind a TLS proxy (the bench client sends X-Forwarded-Proto: https).
from .https import *  # noqa: E402,F403

# Outermost, so the measured time covers every other middleware as well as the view.
MIDDLEWARE = ["tests.bench.middleware.ServerTimingMiddleware", *MIDDLEWARE]

LOGGING["root"]["level"] = "WARNING"  # noqa: F405 - one line per request would skew the figures
