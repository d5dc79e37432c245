"""The restore drill (issue 19): a backup is proven only by restoring it and checking what came back.

`restore(...)` creates a fresh database (marked as a drill's, so a later drill may replace it and nothing
else ever is), restores a `pg_dump -Fc` file into it with pg_restore, and runs the checks in a child process
whose DATABASE_URL points at the restored database: every check (the ledger's, the purge replay's) then
runs through the ordinary default connection, exactly as the site and the commands do after a real restore.

`run_checks(...)` (the child, or an operator after a point-in-time restore into a fresh cluster) checks the
database Django is connected to:
- migrations: every migration the code knows is applied, and no applied migration is unknown to the code;
- the ledger: every journal balances (payments.ledger.check());
- the exclusion constraints and triggers the migrations create exist (found by reading the migrations'
  SQL, so a new one is checked without touching this file), enabled and validated;
- the row count of every table equals the manifest's (counted in the dump's own snapshot: ops/backup/dump.py)
  and, with a source database, the source's now;
- then the purge journal is re-applied (`manage.py replay_purge_journal`) and nobody in it is back: each
  journalled account is erased (no name, email, phone; inactive); the ledger is checked again.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from psycopg import sql

from accounts.models import User
from accounts.personal_data import erased_email
from payments import ledger
from privacy import journal
from privacy.models import PurgeRecord

# Written on every database a drill creates: only a database carrying it may be dropped or replaced.
DRILL_MARK = "kompanion restore drill: safe to drop"
NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""
EXCLUSION_CONSTRAINTS = """
    SELECT conname, convalidated FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname = current_schema() AND contype = 'x'
"""
TRIGGERS = """
    SELECT t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND NOT t.tgisinternal
"""
SQL_EXCLUSION = re.compile(r"ADD\s+CONSTRAINT\s+\"?(\w+)\"?\s+EXCLUDE", re.IGNORECASE)
SQL_TRIGGER = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+\"?(\w+)\"?", re.IGNORECASE)


class DrillError(Exception):
    """The drill could not run (a refused target, pg_restore failing): not a failed check."""


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def passed(self, name: str, detail: str) -> None:
        self.lines.append(f"PASS  {name}: {detail}")

    def failed(self, name: str, detail: str) -> None:
        self.lines.append(f"FAIL  {name}: {detail}")
        self.failures.append(name)

    @property
    def ok(self) -> bool:
        return not self.failures


# --- Where the expectations come from -------------------------------------------------------------------------


def _project_migration_sources(loader: MigrationLoader) -> list[Path]:
    base = Path(settings.BASE_DIR).resolve()
    paths = set()
    for migration in loader.disk_migrations.values():
        module = sys.modules.get(type(migration).__module__)
        source = Path(getattr(module, "__file__", "") or "").resolve()
        if source.suffix == ".py" and base in source.parents and ".venv" not in source.parts:
            paths.add(source)
    return sorted(paths)


def expected_schema_objects(loader: MigrationLoader) -> tuple[set[str], set[str]]:
    """(exclusion constraint names, trigger names) the project's migrations and models create."""
    exclusions: set[str] = set()
    triggers: set[str] = set()
    for source in _project_migration_sources(loader):
        text = source.read_text(encoding="utf-8")
        exclusions.update(SQL_EXCLUSION.findall(text))
        triggers.update(SQL_TRIGGER.findall(text))
    for model in django_apps.get_models():
        exclusions.update(
            constraint.name for constraint in model._meta.constraints if isinstance(constraint, ExclusionConstraint)
        )
    return exclusions, triggers


# --- The checks (on Django's default connection) -------------------------------------------------------------


def check_migrations(report: Report) -> None:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(MigrationRecorder(connection).applied_migrations())
    known = set(loader.disk_migrations)
    # A squashed migration counts as applied when all it replaces are (the loader folds them in its graph).
    missing = sorted(node for node in loader.graph.nodes if node not in loader.applied_migrations)
    unknown = sorted(applied - known)
    if missing or unknown:
        detail = []
        if missing:
            detail.append(f"{len(missing)} not applied: " + ", ".join(f"{app}.{name}" for app, name in missing[:10]))
        if unknown:
            detail.append(f"{len(unknown)} unknown to the code: " + ", ".join(f"{a}.{n}" for a, n in unknown[:10]))
        report.failed("migrations", "; ".join(detail))
    else:
        report.passed("migrations", f"all {len(loader.graph.nodes)} applied, none unknown")


def check_ledger(report: Report, name: str = "ledger") -> None:
    result = ledger.check()
    if result.balanced:
        report.passed(name, f"{result.journals} journals, {result.entries} entries, every journal sums to 0")
    else:
        shown = ", ".join(result.unbalanced[:10])
        report.failed(name, f"sum of all entries {result.total}; {len(result.unbalanced)} unbalanced: {shown}")


def check_constraints_and_triggers(report: Report) -> None:
    exclusions, triggers = expected_schema_objects(MigrationLoader(None, ignore_no_migrations=True))
    with connection.cursor() as cursor:
        cursor.execute(EXCLUSION_CONSTRAINTS)
        present_exclusions = dict(cursor.fetchall())
        cursor.execute(TRIGGERS)
        present_triggers = dict(cursor.fetchall())
    problems = [f"{name} missing" for name in sorted(exclusions - present_exclusions.keys())]
    problems += [f"{name} not validated" for name in sorted(exclusions) if present_exclusions.get(name) is False]
    if not exclusions:
        problems.append("no exclusion constraint found in the migrations (the scan is broken)")
    if problems:
        report.failed("exclusion constraints", "; ".join(problems))
    else:
        report.passed("exclusion constraints", ", ".join(sorted(exclusions)))
    problems = [f"{name} missing" for name in sorted(triggers - present_triggers.keys())]
    problems += [f"{name} disabled" for name in sorted(triggers) if present_triggers.get(name) == "D"]
    if not triggers:
        problems.append("no trigger found in the migrations (the scan is broken)")
    if problems:
        report.failed("triggers", "; ".join(problems))
    else:
        report.passed("triggers", ", ".join(sorted(triggers)))


def count_tables(cursor) -> dict[str, int]:
    cursor.execute(TABLES)
    names = [row[0] for row in cursor.fetchall()]
    counts = {}
    for name in names:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
        counts[name] = cursor.fetchone()[0]
    return counts


def compare_counts(report: Report, name: str, expected: dict[str, int], actual: dict[str, int]) -> None:
    problems = [f"{table} missing" for table in sorted(expected.keys() - actual.keys())]
    problems += [f"{table} not in the backup" for table in sorted(actual.keys() - expected.keys())]
    problems += [
        f"{table} {actual[table]} rows, expected {expected[table]}"
        for table in sorted(expected.keys() & actual.keys())
        if expected[table] != actual[table]
    ]
    if problems:
        report.failed(name, "; ".join(problems[:20]) + (f" (+{len(problems) - 20} more)" if len(problems) > 20 else ""))
    else:
        report.passed(name, f"{len(actual)} tables, {sum(actual.values())} rows, every count equal")


def source_counts(source_db: str) -> dict[str, int]:
    with psycopg.connect(**_libpq_params(source_db)) as source, source.cursor() as cursor:
        return count_tables(cursor)


def check_counts(report: Report, manifest: Path | None, source_db: str | None) -> None:
    with connection.cursor() as cursor:
        restored = count_tables(cursor.cursor)
    if manifest is not None:
        expected = json.loads(manifest.read_text(encoding="utf-8"))["tables"]
        compare_counts(report, "row counts (manifest)", expected, restored)
    if source_db:
        compare_counts(report, "row counts (source database)", source_counts(source_db), restored)
    if manifest is None and not source_db:
        report.failed("row counts", "neither a manifest nor a source database to compare with")


def replay_purges(report: Report, ids_from: Path | None) -> None:
    output = io.StringIO()
    call_command("replay_purge_journal", ids_from=str(ids_from) if ids_from else None, stdout=output)
    report.passed("purge journal replayed", " / ".join(output.getvalue().strip().splitlines()))


def check_no_purged_person_back(report: Report) -> None:
    journalled = journal.stored_ids() | set(PurgeRecord.objects.values_list("user_id", flat=True))
    back = []
    for user in User.objects.filter(pk__in=journalled).only("pk", "email", "full_name", "phone", "is_active"):
        erased = (
            user.email == erased_email(user.pk)
            and not user.full_name
            and not user.phone
            and not user.is_active
            and user.erased_at is not None
        )
        if not erased:
            back.append(user.pk)
    if back:
        report.failed("no purged person back", f"{len(back)} journalled account(s) not erased: ids {back[:20]}")
    else:
        report.passed("no purged person back", f"{len(journalled)} journalled, every account erased")


def run_checks(
    *, manifest: Path | None, source_db: str | None, replay: bool, ids_from: Path | None, write: Callable[[str], None]
) -> Report:
    """Every check against the default database; the purge replay writes to it (that is the restore's step)."""
    report = Report()
    name = connection.settings_dict["NAME"]
    write(f"checking database {name!r}")
    check_migrations(report)
    check_ledger(report)
    check_constraints_and_triggers(report)
    # Counted before the replay: a purge deletes rows the backup held.
    check_counts(report, manifest, source_db)
    if replay:
        replay_purges(report, ids_from)
        check_no_purged_person_back(report)
        check_ledger(report, "ledger after the replay")
    else:
        check_no_purged_person_back(report)
    for line in report.lines:
        write(line)
    return report


# --- Creating the fresh database and restoring into it ----------------------------------------------------------


def _libpq_params(database: str) -> dict:
    params = connection.get_connection_params()
    params["dbname"] = database
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.pop("server_side_binding", None)
    return {key: value for key, value in params.items() if value not in (None, "")}


def _admin() -> psycopg.Connection:
    """A connection to the default database's server (autocommit: CREATE DATABASE refuses a transaction)."""
    if connection.vendor != "postgresql":
        raise DrillError("the restore drill needs PostgreSQL (DATABASE_URL)")
    return psycopg.connect(**_libpq_params(connection.settings_dict["NAME"]), autocommit=True)


def database_url(database: str) -> str:
    settings_dict = connection.settings_dict
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(database, safe='')}"


def create_fresh_database(target: str) -> None:
    """Creates `target`; an existing database is replaced only when an earlier drill created it."""
    if not NAME_PATTERN.match(target):
        raise DrillError(f"{target!r} is not a plain database name (lower-case letters, digits, _)")
    if target == connection.settings_dict["NAME"]:
        raise DrillError(f"{target!r} is the database this process is connected to: refused")
    with _admin() as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [target]
        ).fetchone()
        if row is not None:
            if row[0] != DRILL_MARK:
                raise DrillError(f"database {target!r} exists and is not a drill's: refused (nothing was changed)")
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(target)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(target)))
        admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(target), sql.Literal(DRILL_MARK)))


def drop_drill_database(target: str) -> None:
    with _admin() as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [target]
        ).fetchone()
        if row is not None and row[0] == DRILL_MARK:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(target)))


def _client_environment(target: str) -> dict[str, str]:
    settings_dict = connection.settings_dict
    environment = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if settings_dict.get(key):
            environment[variable] = str(settings_dict[key])
    environment["PGDATABASE"] = target
    return environment


def pg_restore(dump: Path, target: str) -> None:
    # --no-owner/--no-acl: the drill's role owns everything it restores, whichever role owned production's.
    command = [
        os.environ.get("PG_RESTORE", "pg_restore"),
        "--no-owner",
        "--no-acl",
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
        f"--dbname={target}",
        str(dump),
    ]
    result = subprocess.run(command, env=_client_environment(target), capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise DrillError(f"pg_restore failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def check_in_child(
    *, target: str, manifest: Path | None, source_db: str | None, replay: bool, ids_from: Path | None
) -> subprocess.CompletedProcess:
    """This same command with --check-only in a new process whose default database is the restored one."""
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "restore_drill", "--check-only"]
    if manifest is not None:
        command += ["--manifest", str(manifest)]
    if source_db:
        command += ["--source-db", source_db]
    if not replay:
        command.append("--no-replay")
    if ids_from is not None:
        command += ["--ids-from", str(ids_from)]
    environment = dict(os.environ, DATABASE_URL=database_url(target))
    environment.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    return subprocess.run(command, env=environment, capture_output=True, text=True)  # noqa: S603
