"""`manage.py restore_drill --dump FILE`: restores a pg_dump -Fc file into a fresh database and proves it
(web/restore_drill.py says what is checked). `--check-only` runs the checks on the configured database
(DATABASE_URL), for example a cluster just restored to a point in time with pgBackRest."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from web import restore_drill


class Command(BaseCommand):
    requires_system_checks = []  # the drill checks what it needs; a broken copy must still get its report

    help = (
        "Restores a pg_dump -Fc file into a fresh database and checks it: migrations, ledger, exclusion "
        "constraints and triggers, row counts, then re-applies the purge journal (exit 1 if a check fails)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dump", type=Path, help="the dump file (pg_dump -Fc)")
        parser.add_argument(
            "--manifest",
            type=Path,
            help="the per-table row counts written with the dump (default: DUMP.manifest.json when it exists)",
        )
        parser.add_argument(
            "--target-db",
            help="the database to create and restore into (default kompanion_drill_<time>); an existing one is "
            "replaced only if an earlier drill created it",
        )
        parser.add_argument("--source-db", help="also compare row counts with this database on the same server now")
        parser.add_argument("--keep", action="store_true", help="keep the restored database afterwards")
        parser.add_argument("--no-replay", action="store_true", help="do not re-apply the purge journal")
        parser.add_argument("--ids-from", type=Path, help="extra purged user ids, one a line (replay_purge_journal)")
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="no restore: check the database DATABASE_URL points at (and re-apply the purge journal there)",
        )

    def handle(self, *args, **options):
        manifest = options["manifest"]
        replay = not options["no_replay"]
        if options["check_only"]:
            report = restore_drill.run_checks(
                manifest=manifest,
                source_db=options["source_db"],
                replay=replay,
                ids_from=options["ids_from"],
                write=self.stdout.write,
            )
            if not report.ok:
                raise CommandError(f"restore drill FAILED: {', '.join(report.failures)}")
            self.stdout.write(self.style.SUCCESS("restore drill passed"))
            return
        dump = options["dump"]
        if dump is None:
            raise CommandError("give --dump FILE (or --check-only)")
        if not dump.is_file():
            raise CommandError(f"no dump at {dump}")
        if manifest is None:
            default = dump.with_name(dump.name + ".manifest.json")
            manifest = default if default.is_file() else None
        target = options["target_db"] or "kompanion_drill_" + timezone.now().strftime("%Y%m%d_%H%M%S")
        started = time.monotonic()
        try:
            restore_drill.create_fresh_database(target)
            self.stdout.write(f"created database {target!r}")
            restore_drill.pg_restore(dump, target)
        except restore_drill.DrillError as error:
            if "refused" not in str(error):
                restore_drill.drop_drill_database(target)
            raise CommandError(str(error)) from error
        restored = time.monotonic()
        self.stdout.write(f"restored {dump} in {restored - started:.1f} s")
        child = restore_drill.check_in_child(
            target=target,
            manifest=manifest,
            source_db=options["source_db"],
            replay=replay,
            ids_from=options["ids_from"],
        )
        self.stdout.write(child.stdout.rstrip())
        if child.stderr.strip():
            self.stderr.write(child.stderr.rstrip())
        self.stdout.write(f"checks took {time.monotonic() - restored:.1f} s")
        if child.returncode != 0:
            raise CommandError(f"restore drill FAILED; the restored database {target!r} is kept for inspection")
        if options["keep"]:
            self.stdout.write(f"kept the restored database {target!r}")
        else:
            restore_drill.drop_drill_database(target)
            self.stdout.write(f"dropped the restored database {target!r}")
        self.stdout.write(self.style.SUCCESS("restore drill passed"))
