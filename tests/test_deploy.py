"""Production settings: they pass Django's deployment checklist and refuse to start half-configured.

Each check runs in a fresh interpreter with DJANGO_SETTINGS_MODULE=config.settings.prod, because
settings load once per process and this test process runs under config.settings.test. The child
ignores a developer's local .env (the production image has none, see .dockerignore), so the result
depends only on the environment given here.
"""

import json
import os
import re
import secrets
import string
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

# Runs its argument (Python code) the way production would, minus the local .env file.
CHILD_PRELUDE = textwrap.dedent(
    """
    import sys

    import environ

    environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)
    """
)
MANAGE = CHILD_PRELUDE + textwrap.dedent(
    """
    import runpy

    sys.argv = ["manage.py", *sys.argv[1:]]
    runpy.run_path("manage.py", run_name="__main__")
    """
)

REQUIRED_VARIABLES = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "FIELD_ENCRYPTION_KEYS",
    "FIELD_FINGERPRINT_KEY",
    "TRUSTED_PROXY_COUNT",
    "MIDTRANS_SERVER_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_WHATSAPP_FROM",
    "SITE_URL",
)
# Everything the settings read that could change the outcome of a production check.
SETTINGS_VARIABLES = (
    *REQUIRED_VARIABLES,
    "DEBUG",
    "CELERY_BROKER_URL",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "ACCOUNT_DEFAULT_HTTP_PROTOCOL",
    "DJANGO_SETTINGS_MODULE",
)


def random_secret_key(length: int = 64) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def production_environment(**overrides: str | None) -> dict[str, str]:
    """A copy of this process's environment with complete production settings; None removes a variable."""
    environment = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        # `check` without --database never connects, so the host need not exist.
        database_url = "postgres://kompanion:kompanion@127.0.0.1:5432/kompanion"
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="kompanion.id",
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        FIELD_ENCRYPTION_KEYS="dGVzdC1vbmx5LWZlcm5ldC1rZXktMzItYnl0ZXMtISE=",
        FIELD_FINGERPRINT_KEY="test-only-fingerprint-key",
        TRUSTED_PROXY_COUNT="1",
        MIDTRANS_SERVER_KEY="test-only-midtrans-server-key",
        TWILIO_ACCOUNT_SID="AC00000000000000000000000000000000",
        TWILIO_AUTH_TOKEN="test-only-twilio-auth-token",
        TWILIO_WHATSAPP_FROM="+6281100000000",
        SITE_URL="https://kompanion.id",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for name, value in overrides.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def run_child(code: str, *arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_passes_without_warnings():
    result = run_child(MANAGE, "check", "--deploy", "--fail-level", "WARNING", environment=production_environment())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


@pytest.mark.parametrize("variable", REQUIRED_VARIABLES)
@pytest.mark.parametrize("unset", ["missing", "empty"])
def test_production_refuses_to_start_without(variable, unset):
    environment = production_environment(**{variable: None if unset == "missing" else ""})

    # What gunicorn does first: import the WSGI module, which loads the settings.
    result = run_child(CHILD_PRELUDE + "import config.wsgi\n", environment=environment)

    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_production_refuses_a_short_secret_key():
    environment = production_environment(SECRET_KEY=random_secret_key(length=49))

    result = run_child(CHILD_PRELUDE + "import config.wsgi\n", environment=environment)

    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def production_settings(**overrides: str | None) -> dict:
    code = CHILD_PRELUDE + textwrap.dedent(
        """
        import json

        from django.conf import settings

        names = [
            "DEBUG", "SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
            "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH",
            "CSRF_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_SAMESITE",
            "CSRF_COOKIE_DOMAIN", "CSRF_COOKIE_PATH", "LANGUAGE_COOKIE_SECURE", "LANGUAGE_COOKIE_SAMESITE",
            "LANGUAGE_COOKIE_HTTPONLY", "MESSAGE_STORAGE",
            "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
            "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_REDIRECT_EXEMPT",
            "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "ACCOUNT_DEFAULT_HTTP_PROTOCOL",
            "ALLOWED_HOSTS", "STORAGES", "PAYMENT_GATEWAY",
        ]
        print(json.dumps({name: getattr(settings, name) for name in names}, default=str))
        """
    )
    result = run_child(code, environment=production_environment(**overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_cookies_are_host_only_secure_and_same_site():
    values = production_settings()

    # __Host- cookies are only accepted by browsers when Secure, Path=/ and without a Domain.
    for cookie in ("SESSION", "CSRF"):
        assert values[f"{cookie}_COOKIE_NAME"].startswith("__Host-")
        assert values[f"{cookie}_COOKIE_SECURE"] is True
        assert values[f"{cookie}_COOKIE_HTTPONLY"] is True
        assert values[f"{cookie}_COOKIE_SAMESITE"] in ("Lax", "Strict")
        assert values[f"{cookie}_COOKIE_DOMAIN"] is None
        assert values[f"{cookie}_COOKIE_PATH"] == "/"
    assert values["LANGUAGE_COOKIE_SECURE"] is True
    assert values["LANGUAGE_COOKIE_HTTPONLY"] is True
    assert values["LANGUAGE_COOKIE_SAMESITE"] in ("Lax", "Strict")
    # No messages cookie at all (tests/ops/test_cookie_flags.py walks the journeys for every Set-Cookie).
    assert values["MESSAGE_STORAGE"] == "django.contrib.messages.storage.session.SessionStorage"


def test_production_forces_https():
    values = production_settings()

    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["ACCOUNT_DEFAULT_HTTP_PROTOCOL"] == "https"
    assert values["ALLOWED_HOSTS"] == ["kompanion.id"]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_health_probe_and_webhooks_are_never_redirected_to_https():
    """Container health probes speak plain HTTP, and Midtrans does not follow redirects."""
    exempt = production_settings()["SECURE_REDIRECT_EXEMPT"]

    def redirected(path: str) -> bool:
        # As SecurityMiddleware matches: the path without its leading slash.
        return not any(re.search(pattern, path.lstrip("/")) for pattern in exempt)

    assert not redirected("/healthz")
    assert not redirected("/webhooks/midtrans/")
    assert redirected("/accounts/login/")
    assert redirected("/healthz/extra")


def test_production_settings_ignore_the_development_switches():
    """A DEBUG=true or http protocol left in the environment must not weaken production."""
    values = production_settings(DEBUG="true", ACCOUNT_DEFAULT_HTTP_PROTOCOL="http")

    assert values["DEBUG"] is False
    assert values["ACCOUNT_DEFAULT_HTTP_PROTOCOL"] == "https"
    assert values["PAYMENT_GATEWAY"] == "midtrans"  # never the simulator in production
