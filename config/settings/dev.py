"""`make run`: everything embedded, nothing to configure."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-used-in-production"  # noqa: S105
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]

# `make run HOST=... PORT=...` passes both to runserver, migrate and the seed (the Makefile exports them),
# so links in emails and WhatsApp messages, and the sites row allauth greets from (core/sites.py), point
# at the server actually running. An explicit SITE_URL still wins.
RUNSERVER_HOST = env.str("HOST", default="") or "127.0.0.1"
RUNSERVER_PORT = env.int("PORT", default=8000)
if not env.str("SITE_URL", default=""):
    # A server listening on every interface is still reached on this machine through loopback.
    _link_host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(RUNSERVER_HOST, RUNSERVER_HOST)  # noqa: S104
    if ":" in _link_host and not _link_host.startswith("["):
        _link_host = f"[{_link_host}]"  # IPv6 in a URL
    SITE_URL = f"http://{_link_host}:{RUNSERVER_PORT}"
    if _link_host not in ALLOWED_HOSTS:
        ALLOWED_HOSTS = [*ALLOWED_HOSTS, _link_host]

if not FIELD_ENCRYPTION_KEYS:  # noqa: F405
    from core.crypto import derive_dev_key

    FIELD_ENCRYPTION_KEYS = [derive_dev_key(SECRET_KEY)]
FIELD_FINGERPRINT_KEY = FIELD_FINGERPRINT_KEY or "dev-only-fingerprint-key"  # noqa: F405

# The payment simulator signs its notifications with this key, the way Midtrans signs with yours.
MIDTRANS_SERVER_KEY = MIDTRANS_SERVER_KEY or "dev-only-simulator-server-key"  # noqa: F405, S105
