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
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":  # noqa: F405
    # The no-double-booking exclusion constraints and the append-only ledger triggers exist only there.
    raise ImproperlyConfigured("Production needs PostgreSQL (DATABASE_URL=postgres://...).")
if not env.str("TRUSTED_PROXY_COUNT", default=""):
    # Behind the TLS proxy every client would share the proxy's address: one client's failed logins
    # would rate-limit everybody. Say how many proxies append to X-Forwarded-For (0 if none).
    raise ImproperlyConfigured("Production needs TRUSTED_PROXY_COUNT (proxies in front of the app).")
if AWS_STORAGE_BUCKET_NAME and AWS_PRIVATE_STORAGE_BUCKET_NAME == AWS_STORAGE_BUCKET_NAME:  # noqa: F405
    # One wrong bucket policy would publish every KTP: private files get a bucket of their own.
    raise ImproperlyConfigured("Production needs AWS_PRIVATE_STORAGE_BUCKET_NAME, a bucket apart from the public one.")
if not FIELD_FINGERPRINT_KEY:  # noqa: F405
    raise ImproperlyConfigured("Production needs FIELD_FINGERPRINT_KEY (keyed hashes of ID numbers; never rotated).")
if not MIDTRANS_SERVER_KEY:  # noqa: F405
    raise ImproperlyConfigured("Production needs MIDTRANS_SERVER_KEY (payments and notification signatures).")
# The payment simulator never runs in production, whatever the environment says.
PAYMENT_GATEWAY = "midtrans"

for required in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM"):
    if not env.str(required, default=""):
        raise ImproperlyConfigured(f"Production needs {required} (WhatsApp through Twilio).")
# Messages go to real phones in production, never to the dev outbox.
WHATSAPP_BACKEND = "twilio"
if not SITE_URL.startswith("https://") or "127.0.0.1" in SITE_URL or "localhost" in SITE_URL:  # noqa: F405
    # Every link in emails and WhatsApp, and Twilio's status callbacks, are built from it.
    raise ImproperlyConfigured("Production needs SITE_URL, the public https:// address of the site.")

# Logs as JSON (one object per line, for the log collector) unless LOG_FORMAT says "line".
LOGGING["handlers"]["stdout"]["formatter"] = LOG_FORMAT or "json"  # noqa: F405
