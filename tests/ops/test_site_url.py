"""Defect 9: `make run PORT=8101` links to port 8101 (emails, WhatsApp), and allauth's emails greet from
"Kompanion", not from the request's host."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.contrib.sites.models import Site
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from core.sites import sync_site
from tests.factories import signup_data

BASE_DIR = Path(__file__).resolve().parents[2]

DEV_SITE_URL = textwrap.dedent(
    """
    import environ

    environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)  # a developer's .env stays out
    from django.conf import settings

    print(settings.SITE_URL, " ".join(settings.ALLOWED_HOSTS))
    """
)


def dev_settings(**variables: str) -> list[str]:
    environment = {
        name: value for name, value in os.environ.items() if name not in ("SITE_URL", "HOST", "PORT", "ALLOWED_HOSTS")
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.dev", **variables)
    result = subprocess.run(
        [sys.executable, "-c", DEV_SITE_URL],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    site_url, _, hosts = result.stdout.strip().partition(" ")
    return [site_url, *hosts.split()]


@pytest.mark.parametrize(
    ("variables", "site_url"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"HOST": "127.0.0.1", "PORT": "8101"}, "http://127.0.0.1:8101"),
        ({"HOST": "localhost", "PORT": "9000"}, "http://localhost:9000"),
        ({"HOST": "0.0.0.0", "PORT": "8101"}, "http://127.0.0.1:8101"),  # noqa: S104
        ({"HOST": "::1", "PORT": "8101"}, "http://[::1]:8101"),
        ({"HOST": "127.0.0.1", "PORT": "8101", "SITE_URL": "https://dev.example.id"}, "https://dev.example.id"),
    ],
)
def test_dev_site_url_follows_host_and_port(variables, site_url):
    assert dev_settings(**variables)[0] == site_url


def test_dev_allows_the_host_it_serves():
    assert "192.168.1.20" in dev_settings(HOST="192.168.1.20", PORT="8101")[1:]


def test_make_passes_host_and_port_to_the_server(tmp_path):
    """`make serve PORT=8101` runs runserver on 8101 with HOST and PORT in its environment (so do
    migrate and the seed: the Makefile exports both)."""
    fake_python = tmp_path / "python"
    fake_python.write_text('#!/bin/sh\necho "HOST=$HOST PORT=$PORT ARGS=$*"\n')
    fake_python.chmod(0o755)
    environment = {name: value for name, value in os.environ.items() if name not in ("HOST", "PORT")}
    result = subprocess.run(
        ["make", "-s", "serve", "PORT=8101", f"PY={fake_python}"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "HOST=127.0.0.1 PORT=8101 ARGS=manage.py runserver 127.0.0.1:8101"


@pytest.mark.django_db
def test_migrate_names_the_site_kompanion_with_the_site_url_domain():
    # The test database was migrated under SITE_URL=http://testserver.
    assert Site.objects.values_list("pk", "name", "domain").get() == (1, "Kompanion", "testserver")
    with override_settings(SITE_URL="http://127.0.0.1:8101"):
        sync_site()
        assert Site.objects.values_list("pk", "name", "domain").get() == (1, "Kompanion", "127.0.0.1:8101")
        assert Site.objects.get_current().domain == "127.0.0.1:8101"


@pytest.mark.django_db
def test_the_sign_up_email_greets_from_kompanion(client):
    client.cookies["kompanion_language"] = "en"
    with override_settings(SITE_URL="http://127.0.0.1:8101"):
        sync_site()
        response = client.post(
            reverse("account_signup"),
            signup_data(),
            HTTP_HOST="127.0.0.1:8101",
        )
    assert response.status_code == 302
    (email,) = mail.outbox
    assert email.body.startswith("Hello from Kompanion!"), email.body  # in English: the language cookie
    assert "Hello from 127.0.0.1" not in email.body
    assert "http://127.0.0.1:8101/accounts/confirm-email/" in email.body
