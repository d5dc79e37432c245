"""Hardening for sites served over HTTPS behind a TLS-terminating proxy: production and the benchmark
(which must measure the same middleware work). Imported by prod.py and bench.py after base."""

from .base import env

# The proxy sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# /healthz is probed over plain HTTP by the orchestrator; webhooks must never be redirected.
# /metrics: Prometheus scrapes web:8000 inside the compose network over plain HTTP (its token or network guards it).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^webhooks/", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# __Host- cookies: Secure, Path=/, no Domain, so no subdomain can set or read them.
SESSION_COOKIE_NAME = "__Host-sessionid"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_NAME = "__Host-csrftoken"
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
