"""pytest: SQLite unless DATABASE_URL is set (CI points it at PostgreSQL)."""

import os

from .base import *  # noqa: F403
from .base import CACHES, SENTRY_DSN, env

DEBUG = False
SECRET_KEY = "test-only-key-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests run tasks eagerly unless a test starts a real worker (tests/test_celery_worker.py).
CELERY_TASK_ALWAYS_EAGER = True
# Each test gets a clean cache (see tests/conftest.py); Redis is still used when REDIS_URL is set,
# under a prefix of its own (one per pytest-xdist worker), and only that prefix is emptied between tests,
# so tests never touch another process's keys.
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # PYTEST_XDIST_WORKER ("gw0", "gw1"...) is set by pytest-xdist in each worker: not an operator's variable.
    CACHES["default"]["KEY_PREFIX"] = "-".join(filter(None, ["kompanion-test", os.environ.get("PYTEST_XDIST_WORKER")]))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "private": {"BACKEND": "django.core.files.storage.InMemoryStorage", "OPTIONS": {"base_url": None}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FIELD_ENCRYPTION_KEYS = ["dGVzdC1vbmx5LWZlcm5ldC1rZXktMzItYnl0ZXMtISE="]
FIELD_FINGERPRINT_KEY = "test-only-fingerprint-key"
LOGGING["root"]["level"] = env.str("LOG_LEVEL", default="WARNING")  # noqa: F405
# Off by default in tests (many inspect the view's context); tests/companions/test_page_cache.py turns it on.
COMPANION_PAGE_CACHE_SECONDS = 0
COMPANION_FRAGMENT_CACHE_SECONDS = 0
PAYMENT_GATEWAY = "simulator"
MIDTRANS_SERVER_KEY = "test-only-midtrans-server-key"
WHATSAPP_BACKEND = "outbox"
TWILIO_AUTH_TOKEN = "test-only-twilio-auth-token"  # noqa: S105
SITE_URL = "http://testserver"
# Off in tests unless a test turns it on (tests/promotions/): the welcome discount would change the totals
# every other test expects of a customer's first booking.
WELCOME_DISCOUNT_BASIS_POINTS = 0

# A developer's SENTRY_DSN (base.py reported to it from import) must not receive the suite's errors: tests that
# check reporting start the SDK against their own fake server.
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn="")  # an empty DSN (not None, which reads the variable again): nothing is sent
    SENTRY_DSN = ""
