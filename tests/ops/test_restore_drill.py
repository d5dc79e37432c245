"""The restore drill in CI (issue 19), against the local PostgreSQL for real: a database with paid bookings
(the simulator's signed notifications, so the ledger has journals) and a person whose deletion is scheduled
is dumped with ops/backup/dump.py (pg_dump -Fc and its manifest of row counts); then that person is purged
(the journal's copy lands in the private storage, a directory here). `manage.py restore_drill` restores the
dump into a database it creates, re-applies the purge journal and passes. The same checks fail, each naming
what is wrong, when the restored copy is broken: a constraint or trigger dropped, a journal unbalanced, a
row missing, an unknown migration, a purged person back. The drill never touches a database it did not create.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import User
from bookings import services as booking_services
from payments import ledger
from privacy import deletion, journal
from tests.conftest import requires_postgresql
from tests.payments.helpers import paid
from web import restore_drill

pytestmark = [requires_postgresql, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def drill_environment(settings, tmp_path, monkeypatch):
    """Files on disk, shared with the drill's child process (which runs the dev settings on the restored
    database: the test settings keep files in memory, where no other process can read the journal)."""
    private, media = tmp_path / "private", tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": media}},
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": private, "base_url": None},
        },
    }
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    monkeypatch.setenv("PRIVATE_MEDIA_ROOT", str(private))
    monkeypatch.setenv("MEDIA_ROOT", str(media))
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", ",".join(settings.FIELD_ENCRYPTION_KEYS))
    monkeypatch.setenv("FIELD_FINGERPRINT_KEY", settings.FIELD_FINGERPRINT_KEY)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    # No broker: the child runs its tasks in-process, and nothing is left queued in anyone's Redis.
    for variable in ("REDIS_URL", "CELERY_BROKER_URL", "AWS_STORAGE_BUCKET_NAME", "AWS_PRIVATE_STORAGE_BUCKET_NAME"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


@pytest.fixture
def databases_to_drop():
    names: list[str] = []
    yield names
    with psycopg.connect(**restore_drill._libpq_params(connection.settings_dict["NAME"]), autocommit=True) as admin:
        for name in names:
            admin.execute(
                psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name))
            )


def target(databases_to_drop, label: str) -> str:
    name = f"kompanion_drill_test_{label}_{uuid.uuid4().hex[:10]}"
    databases_to_drop.append(name)
    return name


def on_database(name: str):
    return psycopg.connect(**restore_drill._libpq_params(name), autocommit=True)


def seed_and_dump(tmp_path) -> tuple[User, object]:
    """Two paid bookings (one completed, so its money is settled), a customer whose deletion is due later,
    the dump taken before the purge, then the purge (its journal copy written to the private storage)."""
    completed, _payment = paid()
    booking_services.bookings_sweep(now=completed.complete_after)
    completed.refresh_from_db()
    assert completed.status == "completed"
    paid()  # confirmed, its money held in escrow
    person = completed.customer
    asked_at = completed.complete_after + timedelta(hours=1)
    deletion.deletion_request(person, now=asked_at)
    assert ledger.check().balanced and ledger.check().journals >= 3

    dump = tmp_path / "kompanion.dump"
    started = subprocess.run(
        [
            sys.executable,
            str(settings.BASE_DIR / "ops" / "backup" / "dump.py"),
            "--database-url",
            restore_drill.database_url(connection.settings_dict["NAME"]),
            "--output",
            str(dump),
        ],
        capture_output=True,
        text=True,
    )
    assert started.returncode == 0, started.stderr
    assert (tmp_path / "kompanion.dump.manifest.json").is_file()

    assert deletion.purge_person(person.pk, now=asked_at + timedelta(days=15))
    assert journal.stored_ids() == {person.pk}  # written after the commit, to the directory the child reads
    return person, dump


def test_the_drill_restores_a_dump_into_a_fresh_database_and_proves_it(drill_environment, databases_to_drop, capsys):
    person, dump = seed_and_dump(drill_environment)
    restored = target(databases_to_drop, "ok")

    call_command("restore_drill", dump=dump, target_db=restored, keep=True)

    output = capsys.readouterr().out
    for check in (
        "migrations",
        "ledger",
        "exclusion constraints",
        "triggers",
        "row counts (manifest)",
        "no purged person back",
        "ledger after the replay",
    ):
        assert f"PASS  {check}:" in output
    assert "FAIL" not in output
    assert "bookings_companion_no_overlap, bookings_customer_no_overlap" in output
    assert "payments_entry_append_only, payments_entry_balanced, payments_journal_append_only" in output
    assert "1 purges re-applied" in output
    # The dump was taken before the purge, so the person came back with it; the replay erased them again.
    with on_database(restored) as restored_db:
        email, erased_at, is_active = restored_db.execute(
            "SELECT email, erased_at, is_active FROM accounts_user WHERE id = %s", [person.pk]
        ).fetchone()
    assert (email, is_active) == (f"deleted-{person.pk}@invalid.example", False) and erased_at is not None

    # Now break the restored copy, one thing per check, and check it again (without the replay, which would
    # erase the person once more): every check fails and names what is wrong.
    with on_database(restored) as broken:
        broken.execute("ALTER TABLE bookings_booking DROP CONSTRAINT bookings_customer_no_overlap")
        broken.execute("DROP TRIGGER payments_journal_append_only ON payments_journal")
        broken.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('payments', '9999_from_the_future', now())"
        )
        broken.execute("DELETE FROM bookings_bookingevent WHERE id = (SELECT min(id) FROM bookings_bookingevent)")
        broken.execute(
            "UPDATE accounts_user SET erased_at = NULL, is_active = true, email = 'back@example.id' WHERE id = %s",
            [person.pk],
        )
        # The ledger's own deferred trigger would refuse this line: only a replica-role session gets it in.
        broken.execute("SET session_replication_role = replica")
        reference = broken.execute(
            "INSERT INTO payments_entry (journal_id, account_id, amount) SELECT journal_id, account_id, 1 "
            "FROM payments_entry ORDER BY id LIMIT 1 RETURNING (SELECT reference FROM payments_journal j "
            "WHERE j.id = journal_id)"
        ).fetchone()[0]
    checked = subprocess.run(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "restore_drill",
            "--check-only",
            "--no-replay",
            "--manifest",
            str(dump) + ".manifest.json",
        ],
        env={**os.environ, "DATABASE_URL": restore_drill.database_url(restored)},
        capture_output=True,
        text=True,
    )
    assert checked.returncode != 0
    report = checked.stdout
    assert "FAIL  migrations: 1 unknown to the code: payments.9999_from_the_future" in report
    assert f"FAIL  ledger: sum of all entries 1; 1 unbalanced: {reference}" in report
    assert "FAIL  exclusion constraints: bookings_customer_no_overlap missing" in report
    assert "FAIL  triggers: payments_journal_append_only missing" in report
    assert "FAIL  row counts (manifest):" in report and "bookings_bookingevent" in report
    assert f"FAIL  no purged person back: 1 journalled account(s) not erased: ids [{person.pk}]" in report
    assert "restore drill FAILED" in checked.stderr


def test_the_drill_never_touches_a_database_it_did_not_create(drill_environment, databases_to_drop, tmp_path):
    someone_elses = target(databases_to_drop, "notmine")
    with on_database(connection.settings_dict["NAME"]) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(someone_elses)))
    with on_database(someone_elses) as theirs:
        theirs.execute("CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)")
    dump = tmp_path / "empty.dump"
    dump.write_bytes(b"PGDMP")

    with pytest.raises(CommandError, match="exists and is not a drill's: refused"):
        call_command("restore_drill", dump=dump, target_db=someone_elses)
    with pytest.raises(CommandError, match="the database this process is connected to: refused"):
        call_command("restore_drill", dump=dump, target_db=connection.settings_dict["NAME"])

    with on_database(someone_elses) as theirs:
        assert theirs.execute("SELECT count(*) FROM precious").fetchone() == (1,)
