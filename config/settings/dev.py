"""`make run`: everything embedded, nothing to configure."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-used-in-production"  # noqa: S105
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]

if not FIELD_ENCRYPTION_KEYS:  # noqa: F405
    from core.crypto import derive_dev_key

    FIELD_ENCRYPTION_KEYS = [derive_dev_key(SECRET_KEY)]
FIELD_FINGERPRINT_KEY = FIELD_FINGERPRINT_KEY or "dev-only-fingerprint-key"  # noqa: F405

# The payment simulator signs its notifications with this key, the way Midtrans signs with yours.
MIDTRANS_SERVER_KEY = MIDTRANS_SERVER_KEY or "dev-only-simulator-server-key"  # noqa: F405, S105
