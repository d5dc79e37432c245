"""Production: refuses to start without the secrets it needs; everything hardened."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import REDIS_URL, env

DEBUG = False

for required in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"):
    if not env.str(required, default=""):
        raise ImproperlyConfigured(f"Production needs the environment variable {required}.")
if len(SECRET_KEY) < 50:  # noqa: F405
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters.")

from .https import *  # noqa: E402,F403 - HTTPS hardening shared with the benchmark

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
}

if not FIELD_ENCRYPTION_KEYS:  # noqa: F405
    raise ImproperlyConfigured("Production needs FIELD_ENCRYPTION_KEYS (Fernet keys for ID numbers at rest).")
if not REDIS_URL:
    raise ImproperlyConfigured("Production needs REDIS_URL (cache for rate limits, Celery broker).")
