"""Demo safety data for `make run` (composed by web's seed_demo).

Reports about people (safety/reports.py): Rina (pelanggan) has reported Hendra from his profile, so the
admin's "Reports about people" and safety queue have one open report to decide (warn, suspend, ban, dismiss).
Idempotent: a second run finds the report and adds nothing."""

from __future__ import annotations

from accounts.models import User
from safety import reports
from safety.models import PersonReport

REPORTER_EMAIL = "pelanggan@kompanion.test"
REPORTED_EMAIL = "hendra@kompanion.test"


def seed_reports() -> int:
    """Returns how many reports it made (0 on a second run, or without the demo accounts)."""
    reporter = User.objects.filter(email=REPORTER_EMAIL).first()
    person = User.objects.filter(email=REPORTED_EMAIL).first()
    if reporter is None or person is None or PersonReport.objects.filter(reporter=reporter, reported=person).exists():
        return 0
    reports.report_send(
        reporter=reporter,
        reported=person,
        category="harassment",
        description=(
            "Demo: setelah saya bertanya soal jadwal, dia terus mengirim pesan yang membuat saya tidak nyaman "
            "dan meminta nomor WhatsApp saya."
        ),
    )
    return 1
