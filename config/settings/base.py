"""Settings shared by every environment.

Every value is declared here and read from the environment (django-environ). An unset variable means
the embedded default that `make run` relies on: SQLite, tasks in-process, files on local disk, console
email. dev/test/prod only switch and harden; they never introduce a variable of their own.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is a convenience for developers; production passes real environment variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# The django.contrib.sites row allauth reads ("Hello from Kompanion"): domain from SITE_URL and the
# name Kompanion, written after every migrate (core/sites.py).
SITE_ID = 1

INSTALLED_APPS = [
    "core.apps.KompanionAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "django_htmx",
    "template_partials",
    "django_prometheus",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "core",
    "accounts",
    "storages",
    "django.contrib.postgres",
    "companions",
    "bookings",
    "payments",
    "reviews",
    "chat",
    "safety",
    "privacy",
    "promotions",
    "products",
    "analytics",
    "notifications",
    "web",
]

MIDDLEWARE = [
    # First and last: request latency and errors by view, counted around everything else (issue 19).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Outermost of ours: every response (redirects and errors too) carries X-Request-ID, every log line its id.
    "core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.NulInPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF: its check parses the body, and a refused body must not be read at all.
    "core.middleware.RequestSizeLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.UserLanguageMiddleware",
    "core.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "core.context_processors.site",
                "notifications.context_processors.notifications",
            ],
            "builtins": ["django.templatetags.i18n"],
        },
    }
]

# --- Database -----------------------------------------------------------------------------------
# SQLite by default. IMMEDIATE transactions take the write lock at BEGIN, so two concurrent writers
# wait for each other (busy timeout) instead of failing with "database is locked" mid-transaction.
DATABASES = {
    # An empty DATABASE_URL counts as unset (prod.py then refuses to start with a clear message).
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Read replica (optional): a streaming standby of the primary. Only views marked @reads_from_replica (search,
# profiles, the analytics pages) and the analytics rollups read from it, and only when that is safe: not
# within REPLICA_PIN_SECONDS of the browser's last write, not inside a transaction on the primary, not when
# it lags more than REPLICA_MAX_LAG_SECONDS or is down (core/db_router.py). Writes always go to the primary.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=5)
REPLICA_MAX_LAG_SECONDS = env.int("REPLICA_MAX_LAG_SECONDS", default=30)
if DATABASE_REPLICA_URL:
    if "postgresql" not in DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs PostgreSQL for DATABASE_URL as well.")
    replica = env.db_url_config(DATABASE_REPLICA_URL)
    replica_options = {**DATABASES["default"].get("OPTIONS", {}), **replica.get("OPTIONS", {})}
    # Read-only even if the URL names a primary by mistake; a replica that does not answer is given up on
    # quickly (the router then reads from the primary) rather than holding a request for the OS timeout.
    replica_options["options"] = " ".join(
        filter(None, [replica_options.get("options", ""), "-c default_transaction_read_only=on"])
    )
    replica_options.setdefault("connect_timeout", 3)
    DATABASES["replica"] = {
        **replica,
        "OPTIONS": replica_options,
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        # In tests the replica is never created, flushed or migrated: it is pointed at the primary's test
        # database by name, which reaches it through streaming replication (tests/ops/test_replica.py).
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
    # Innermost, so it sees the view's writes: a browser that wrote reads from the primary for a while.
    MIDDLEWARE = [*MIDDLEWARE, "core.replica.ReplicaPinMiddleware"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery --------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # RedisCache whose outages are logged, never raised: pages keep serving from PostgreSQL, and
            # allauth's rate-limit counters (keys "allauth:rl:...") are kept in PostgreSQL meanwhile, so
            # the login limits neither fail nor switch off (core/cache.py).
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kompanion",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
            "FALLBACK_KEY_PREFIXES": ["allauth:rl:"],
        }
    }
else:
    # Not DummyCache: allauth's rate limits need a cache that remembers.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# No broker named (`make run`, tests without REDIS_URL): tasks run in-process (below), and whatever
# connection Celery still opens (an eager apply_async borrows a producer; a worker started by hand) is
# kombu's in-memory transport, never Celery's own fallback for an empty URL, amqp://guest@localhost.
# Celery connects through these two (they default to CELERY_BROKER_URL), while CELERY_BROKER_URL stays
# empty: "no broker" to /healthz and to the eager switch below.
CELERY_BROKER_READ_URL = CELERY_BROKER_WRITE_URL = None if CELERY_BROKER_URL else "memory://localhost/"
CELERY_RESULT_BACKEND = None
# With no broker configured, tasks run in-process (eagerly) so `make run` needs no Redis.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 3}
# Queues (issue 19, docs/scaling.md). CELERY_SPLIT_QUEUES sends payments' tasks to the "payments" queue and
# notifications' (WhatsApp, email) to "notifications", the rest staying on "celery", so a slow or failing
# Twilio never delays a payment. A worker started without -Q consumes all three, so turning it on needs no
# other change; scaling is then a worker of its own per queue (`celery -A config worker -Q payments`).
CELERY_SPLIT_QUEUES = env.bool("CELERY_SPLIT_QUEUES", default=False)
if CELERY_SPLIT_QUEUES:
    from kombu import Queue

    CELERY_TASK_QUEUES = [Queue(name) for name in ("celery", "payments", "notifications")]
    CELERY_TASK_ROUTES = {"payments.*": {"queue": "payments"}, "notifications.*": {"queue": "notifications"}}

# --- Auth & accounts --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    # allauth's backend, which also lets a person whose deletion is scheduled log in to cancel it (issue 15).
    "privacy.backends.DeletionGraceBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "privacy.adapters.AccountAdapter"  # accounts' adapter + login cancels a deletion
ACCOUNT_USER_DISPLAY = "accounts.models.user_display"
ACCOUNT_FORMS = {
    "signup": "accounts.forms.SignupForm",
    # A person in the 14-day grace of a deletion can reset a forgotten password, then log in to cancel it.
    "reset_password": "privacy.forms.GraceResetPasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # this session stays; every other session ends (auth hash)
ACCOUNT_REAUTHENTICATION_REQUIRED = True  # before adding/changing email addresses
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Kompanion] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http")
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
ALLAUTH_TRUSTED_PROXY_COUNT = int(env.str("TRUSTED_PROXY_COUNT", default="") or 0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Kompanion"

# Versions of the legal documents a user accepts at sign-up; bump one to ask for consent again.
TERMS_VERSION = "2026-11-01"
PRIVACY_VERSION = "2026-11-01"
# Accounts that never confirmed their email are erased after this many days (data minimisation).
UNVERIFIED_ACCOUNT_RETENTION_DAYS = env.int("UNVERIFIED_ACCOUNT_RETENTION_DAYS", default=7)
# Privacy (issue 15): a deleted account is purged after this many days, unless the person logs in meanwhile.
PRIVACY_DELETION_GRACE_DAYS = env.int("PRIVACY_DELETION_GRACE_DAYS", default=14)
# Retention periods in days (the daily job, privacy/retention.py; shown on the privacy pages): KTP and selfie
# images after the verification decision; chat message texts after the booking ends; notification and
# delivery texts; the personal fields of raw payment notifications (after the refund and chargeback window).
RETENTION_KTP_DAYS = env.int("RETENTION_KTP_DAYS", default=30)
RETENTION_MESSAGES_DAYS = env.int("RETENTION_MESSAGES_DAYS", default=365)
RETENTION_NOTIFICATIONS_DAYS = env.int("RETENTION_NOTIFICATIONS_DAYS", default=90)
RETENTION_PAYMENT_NOTIFICATIONS_DAYS = env.int("RETENTION_PAYMENT_NOTIFICATIONS_DAYS", default=180)
# "Export my data": the download link works, and the file is kept, this many days after it is ready (48 h).
PRIVACY_EXPORT_DAYS = env.int("PRIVACY_EXPORT_DAYS", default=2)

# --- Sessions & cookies -------------------------------------------------------------------------------
# Plain database sessions. cached_db saved one primary-key read per request (the user row is read from
# the database anyway), and cost a Redis write beside every session write; with Redis down its writes
# raised (every signed-in page answered 500), and a cache that swallowed them would keep serving a
# session from Redis after it was ended in the database during the outage (a logout undone).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Idle timeout: the session ends after this long without a request (it is renewed on activity,
# see core.middleware.IdleTimeoutMiddleware). Staff get a much shorter one.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=7 * 24 * 3600)
STAFF_SESSION_IDLE_TIMEOUT = env.int("STAFF_SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # templates hand the token to HTMX through hx-headers instead
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
LANGUAGE_COOKIE_NAME = "kompanion_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True  # read by the server only (core.middleware.UserLanguageMiddleware)
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
# Flash messages live in the session, so no `messages` cookie exists at all: Django's cookie storage
# deletes its cookie without the Secure flag (and leaks message texts to the browser while it lives).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- i18n ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
# locale/: our strings (makemessages). locale_overrides/: third-party strings (allauth, Django)
# reworded in our voice ("kamu", never "Anda") or translated where they ship untranslated. The first
# path wins over the second, and both win over the apps' own catalogues.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_overrides"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # stored in UTC; shown in the user's zone (WIB/WITA/WIT)
DEFAULT_USER_TIME_ZONE = "Asia/Jakarta"
# Django's default datetime display carries the zone ("2 Des 2026, 19.30 WIB"): the admin, which shows
# every time in WIB (core/admin_site.py), relies on it.
FORMAT_MODULE_PATH = ["core.formats"]

# --- Static & media -----------------------------------------------------------------------------------
# Static files from a CDN (issue 19): its base URL, ending in "/", e.g. https://cdn.kompanion.id/static/ with
# the CDN pulling from https://<our host>/static/ (nginx serves them there, hashed and immutable). Empty: we
# serve them ourselves. Its origin joins the Content-Security-Policy below.
STATIC_CDN_URL = env.str("STATIC_CDN_URL", default="")
if STATIC_CDN_URL and (not STATIC_CDN_URL.endswith("/") or not STATIC_CDN_URL.startswith(("https://", "http://"))):
    raise ImproperlyConfigured('STATIC_CDN_URL must be an absolute URL ending with "/".')
STATIC_URL = STATIC_CDN_URL or "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# KTP and selfie images live apart from public media and are never served from a public URL:
# only core/companions views that check permissions stream them (S3: short-lived presigned URLs).
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private_media")))
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_PRIVATE_STORAGE_BUCKET_NAME = env.str("AWS_PRIVATE_STORAGE_BUCKET_NAME", default="") or AWS_STORAGE_BUCKET_NAME
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="ap-southeast-3")  # Jakarta
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None  # MinIO or another S3-compatible store
AWS_S3_CUSTOM_DOMAIN = env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None  # CDN for public media
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None  # unset: the instance role
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
PRIVATE_URL_EXPIRY_SECONDS = env.int("PRIVATE_URL_EXPIRY_SECONDS", default=180)
if AWS_STORAGE_BUCKET_NAME:
    _s3_common = {
        "region_name": AWS_S3_REGION_NAME,
        "endpoint_url": AWS_S3_ENDPOINT_URL,
        "access_key": AWS_ACCESS_KEY_ID,
        "secret_key": AWS_SECRET_ACCESS_KEY,
        "file_overwrite": False,
        "signature_version": "s3v4",
    }
    STORAGES = {
        # Public: photos. Readable through the bucket policy or the CDN, not per-object ACLs.
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **_s3_common,
                "bucket_name": AWS_STORAGE_BUCKET_NAME,
                "location": "public",
                "default_acl": None,
                "querystring_auth": False,
                "custom_domain": AWS_S3_CUSTOM_DOMAIN,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
        "private": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **_s3_common,
                "bucket_name": AWS_PRIVATE_STORAGE_BUCKET_NAME,
                "location": "private",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": PRIVATE_URL_EXPIRY_SECONDS,
                "object_parameters": {"CacheControl": "private, no-store"},
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

# Rendered search results and profile pages are cached this long (0 turns it off); writes invalidate
# them at once (companions/page_cache.py).
COMPANION_PAGE_CACHE_SECONDS = env.int("COMPANION_PAGE_CACHE_SECONDS", default=600)
# Per-companion fragments (a search card, a profile's unchanging parts), keyed by that companion's own
# version: one booking or edit re-renders that companion's fragments, not every page. 0 turns them off.
COMPANION_FRAGMENT_CACHE_SECONDS = env.int("COMPANION_FRAGMENT_CACHE_SECONDS", default=600)

# --- Bookings -------------------------------------------------------------------------------------------
# The platform's commission on the subtotal, in basis points (2000 = 20%); the levels issue makes it
# depend on the companion's level.
BOOKING_COMMISSION_BASIS_POINTS = env.int("BOOKING_COMMISSION_BASIS_POINTS", default=2000)
# How long any row lock may be waited for (core/locks.py) before the caller answers "try again" (a page)
# or 503 (the Midtrans webhook: Midtrans retries). Short, because a waiting request holds a gunicorn
# thread: with 3000 ms, ten customers booking one companion whose row a long transaction held kept all
# 2 x 4 threads busy, and unrelated pages waited up to 9 s behind them (issue 11). A booking holds its
# companion's row for tens of milliseconds, so 300 ms lets most of a burst of bookings for one companion
# through one after another; the rest are told to try again (tests/bench/contention.py measures both).
LOCK_TIMEOUT_MS = env.int("LOCK_TIMEOUT_MS", default=env.int("BOOKING_LOCK_TIMEOUT_MS", default=300))
BOOKING_LOCK_TIMEOUT_MS = LOCK_TIMEOUT_MS
# The service's row locks; tests switch them off to show that the exclusion constraint holds alone.
BOOKING_LOCKS = True

# --- Payments (Midtrans) -----------------------------------------------------------------------------
# Server key: signs notifications and authenticates API calls. Empty: every notification is refused.
MIDTRANS_SERVER_KEY = env.str("MIDTRANS_SERVER_KEY", default="")
MIDTRANS_IS_PRODUCTION = env.bool("MIDTRANS_IS_PRODUCTION", default=False)
# "midtrans" (real Snap and Core API) or "simulator" (a local checkout page, `make run`). Production
# forces "midtrans".
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="simulator")
# Only to point the client at another host (tests use a local fake); empty = Midtrans' own hosts.
MIDTRANS_SNAP_BASE_URL = env.str("MIDTRANS_SNAP_BASE_URL", default="")
MIDTRANS_API_BASE_URL = env.str("MIDTRANS_API_BASE_URL", default="")
# midtransclient sets no timeout of its own: seconds to connect and to read an answer.
MIDTRANS_CONNECT_TIMEOUT = env.float("MIDTRANS_CONNECT_TIMEOUT", default=3.05)
MIDTRANS_READ_TIMEOUT = env.float("MIDTRANS_READ_TIMEOUT", default=10.0)
# Notifications accepted per client address per minute on the webhook (Midtrans sends from a few hosts).
PAYMENT_WEBHOOK_RATE_PER_MINUTE = env.int("PAYMENT_WEBHOOK_RATE_PER_MINUTE", default=600)
# How payouts leave: "manual" (staff make the bank transfer and record its reference).
PAYOUT_DISBURSEMENT = env.str("PAYOUT_DISBURSEMENT", default="manual")

# --- Notifications (WhatsApp through Twilio) ---------------------------------------------------------------
# "twilio" (real) or "outbox" (dev: messages shown on /dev/outbox/ instead of a phone). Production forces twilio.
WHATSAPP_BACKEND = env.str("WHATSAPP_BACKEND", default="outbox")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Our WhatsApp sender, E.164 (e.g. +6281100000000).
TWILIO_WHATSAPP_FROM = env.str("TWILIO_WHATSAPP_FROM", default="")
# Approved WhatsApp templates: JSON {"event": "HX..." content SID}; the variables follow
# notifications/messages.py (the event's fields in order, then the link).
TWILIO_WHATSAPP_TEMPLATES = env.json("TWILIO_WHATSAPP_TEMPLATES", default={})
# Only to point the client at another host (tests use a local fake); empty = api.twilio.com.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# Twilio callbacks (status, inbound) accepted per client address per minute.
TWILIO_WEBHOOK_RATE_PER_MINUTE = env.int("TWILIO_WEBHOOK_RATE_PER_MINUTE", default=1200)
# What one WhatsApp message costs us, whole Rupiah, for the analytics dashboard's cost per booking; 0 = unknown
# (the cost is then not shown).
WHATSAPP_PRICE_PER_MESSAGE = env.int("WHATSAPP_PRICE_PER_MESSAGE", default=0)

# Encryption at rest for ID numbers (core/crypto.py): comma-separated Fernet keys, newest first.
# Unset in dev/test: derived from SECRET_KEY. Production refuses to start without them.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# Key for fingerprints (keyed hashes that find a NIK used on two accounts). Unlike the encryption keys
# it never rotates: a new one would make every stored fingerprint unmatched.
FIELD_FINGERPRINT_KEY = env.str("FIELD_FINGERPRINT_KEY", default="")

# --- Request bodies: our limits and Django's, in step ------------------------------------------------
# A picture is at most 10 MB (companions/images.py reads this; README "Files and personal data"), and
# the KTP form carries two (KTP and selfie). A request declaring more than REQUEST_MAX_BODY_BYTES is
# answered 413 before a byte is read (core.middleware.RequestSizeLimitMiddleware); the webhooks refuse
# far less (Midtrans 64 KB, Twilio 16 KB: core.http.limit_body).
UPLOAD_MAX_FILE_BYTES = 10 * 1024 * 1024
REQUEST_MAX_BODY_BYTES = 2 * UPLOAD_MAX_FILE_BYTES + 1024 * 1024
# Everything in a body but its files (form fields): no form of ours comes near 1 MB. Above the webhook
# limits and below REQUEST_MAX_BODY_BYTES (tests/resilience/test_hostile_bodies.py keeps the order).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Django's default, stated: the largest forms (the weekly schedule, an admin change list) stay far below.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# An upload up to this size stays in memory, a larger one goes to a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Django's two, then ours: a body that ends inside a file is a 400, not a form sent without the file.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    "core.http.RefuseInterruptedUploads",
]

# --- Email ----------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kompanion <halo@kompanion.id>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who is emailed at once about an SOS (issue 15; the alert also tops the admin's safety queue). Comma-separated;
# empty falls back to ADMINS, then to the support address.
SAFETY_TEAM_EMAILS = env.list("SAFETY_TEAM_EMAILS", default=[])

# --- Security -------------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # allauth's TOTP setup shows its QR code as a data: URI.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
if AWS_STORAGE_BUCKET_NAME:
    # Photos come from the bucket (or its CDN); ID images from short-lived signed bucket URLs.
    _media_origin = (
        f"https://{AWS_S3_CUSTOM_DOMAIN}"
        if AWS_S3_CUSTOM_DOMAIN
        else (AWS_S3_ENDPOINT_URL or "https://*.amazonaws.com")
    )
    _private_origin = AWS_S3_ENDPOINT_URL or "https://*.amazonaws.com"
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] += sorted({_media_origin, _private_origin})
if STATIC_CDN_URL:
    # Scripts, styles, fonts and images of our own, from the CDN's origin.
    _static_origin = "{0.scheme}://{0.netloc}".format(urlsplit(STATIC_CDN_URL))
    for _directive in ("script-src", "style-src", "font-src", "img-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive].append(_static_origin)
# "Pay" posts to us and is redirected to Midtrans' Snap page: browsers apply form-action to that
# redirect, so Snap's origin is allowed (only as a form target; nothing of theirs runs on our pages).
_snap = urlsplit(MIDTRANS_SNAP_BASE_URL) if MIDTRANS_SNAP_BASE_URL else None
CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
    f"{_snap.scheme}://{_snap.netloc}"
    if _snap
    else ("https://app.midtrans.com" if MIDTRANS_IS_PRODUCTION else "https://app.sandbox.midtrans.com")
)

# --- Logging: everything to stdout, one record per line ----------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "line" (readable: the default in dev and tests) or "json" (one JSON object per line with timestamp, level,
# logger, message and request_id: the default in production, config/settings/prod.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="")
if LOG_FORMAT not in ("", "line", "json"):
    raise ImproperlyConfigured('LOG_FORMAT must be "line" or "json".')
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"()": "core.log_format.LineFormatter"},
        "json": {"()": "core.log_format.JsonFormatter"},
    },
    "filters": {
        # Personal data and secrets out of every message and traceback (core/redaction.py).
        "redact_secrets": {"()": "core.redaction.RedactSecretsFilter"},
        # The request's (or Celery task's) id on every record (core/request_id.py).
        "request_id": {"()": "core.request_id.RequestIdFilter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT or "line",
            "filters": ["request_id", "redact_secrets"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # runserver's access log: through our (redacting) handler, not Django's default one.
        "django.server": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}
# The worker logs through the handler above (format, redaction, request id), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Error reporting: Sentry or a self-hosted GlitchTip (core/error_reporting.py) -------------------------
# Off unless a DSN is set; personal data is scrubbed by the same rules as the logs (core/redaction.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
# Share of requests and tasks traced for performance; 0 sends errors only.
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from core.error_reporting import init_error_reporting

    init_error_reporting(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)

ADMIN_URL = env.str("ADMIN_URL", default="admin/")

# --- Metrics (issue 19; config/metrics.py, core/metrics.py) -----------------------------------------------
# /metrics answers Prometheus with `Authorization: Bearer <METRICS_TOKEN>` or from an address inside one of
# METRICS_ALLOWED_NETWORKS (CIDRs, judged on the TCP peer, never X-Forwarded-For); anybody else gets a 404.
# Neither set: nobody.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
# A Celery worker serves its own task counts on this port (same rule as /metrics); 0: not served.
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)

SILENCED_SYSTEM_CHECKS = [
    # User.email is unique case-insensitively through a functional UniqueConstraint on Lower(email),
    # which Django's check cannot see.
    "auth.W004",
]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run` only: SQLite cannot make the analytics cells' unique constraints that treat NULL ("every
    # city") as one value. Nothing there relies on them: the rollups replace a day's rows whole, and the
    # search counters' flush on SQLite updates a cell before it creates one (writes are serialised).
    SILENCED_SYSTEM_CHECKS.append("models.W047")

# Promotions (issue 16): a customer's first booking gets the welcome discount when no code is given
# (15% up to Rp 50.000); a code replaces it (one discount per booking). A discount never exceeds the
# platform's part (service fee + commission) and never brings a total below PROMOTION_MINIMUM_TOTAL.
WELCOME_DISCOUNT_BASIS_POINTS = env.int("WELCOME_DISCOUNT_BASIS_POINTS", default=1500)
WELCOME_DISCOUNT_CAP = env.int("WELCOME_DISCOUNT_CAP", default=50_000)
PROMOTION_MINIMUM_TOTAL = env.int("PROMOTION_MINIMUM_TOTAL", default=10_000)
PROMO_CODE_CHECKS_PER_MINUTE = 10
# Referrals (issue 16): a friend who signs up through an invitation gets a raised welcome discount; when
# their first booking completes (its dispute window closed), a customer who invited them earns a voucher for
# their own next booking, a companion a commission cut for 30 days. Rewards are never cash.
REFERRAL_WELCOME_DISCOUNT_BASIS_POINTS = env.int("REFERRAL_WELCOME_DISCOUNT_BASIS_POINTS", default=2500)
REFERRAL_WELCOME_DISCOUNT_CAP = env.int("REFERRAL_WELCOME_DISCOUNT_CAP", default=75_000)
REFERRAL_VOUCHER_AMOUNT = env.int("REFERRAL_VOUCHER_AMOUNT", default=50_000)
REFERRAL_VOUCHER_DAYS = env.int("REFERRAL_VOUCHER_DAYS", default=180)
REFERRAL_COMMISSION_CUT_BASIS_POINTS = env.int("REFERRAL_COMMISSION_CUT_BASIS_POINTS", default=200)
REFERRAL_COMMISSION_CUT_DAYS = env.int("REFERRAL_COMMISSION_CUT_DAYS", default=30)
REFERRAL_REWARDS_PER_YEAR = 10
# More sign-ups than this from one address through one link within REFERRAL_BURST_HOURS are held for review.
REFERRAL_BURST_SIGNUPS = 3
REFERRAL_BURST_HOURS = 24
