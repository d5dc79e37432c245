"""Defect 10: `make run` printed about 1,900 lines of demo emails before the demo logins. The seed's
emails stay out of the console and the logins come last."""

import importlib
import io
import logging

import pytest
from django.apps import apps
from django.core.management import call_command

from notifications.models import Channel, Delivery

# Committed for real, as in `make run` (the notifications' sends run at each commit).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def reference_data():
    """The cities, activities and languages of companions' migration 0002 (idempotent): an earlier
    transactional test may have flushed them."""
    importlib.import_module("companions.migrations.0002_seed_reference_data").seed(apps, None)


def test_the_seed_prints_no_email_and_ends_with_the_demo_logins(settings, capsys, caplog, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # as in `make run`
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    caplog.set_level(logging.INFO)  # as in `make run`, where each in-process task logged a line
    out = io.StringIO()

    call_command("seed_demo", "--force", stdout=out)

    printed = capsys.readouterr().out + out.getvalue()
    # The seed did send emails (notifications of the demo bookings), they just were not printed.
    assert Delivery.objects.filter(channel=Channel.EMAIL, status=Delivery.Status.SENT).exists()
    assert "Subject:" not in printed and "Content-Type:" not in printed
    assert [record.getMessage() for record in caplog.records if record.name.startswith(("celery", "kombu"))] == []
    lines = [line for line in printed.splitlines() if line.strip()]
    assert lines[-5].startswith("Demo logins (password for all: kompanion-demo)")
    assert lines[-4].split() == ["customer", "pelanggan@kompanion.test"]
    assert lines[-2].split()[:2] == ["admin", "admin@kompanion.test"]
    assert "make totp" in lines[-1]
    assert len(lines) == 7  # the summary, the note on emails, then the logins
