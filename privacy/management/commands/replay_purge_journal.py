"""After a backup is restored: every person in the purge journal is purged again (their data may be back
with the backup). Idempotent: a second run changes nothing."""

from django.core.management.base import BaseCommand

from privacy import deletion, journal


class Command(BaseCommand):
    help = "Re-applies the purge of every person in the purge journal (run after restoring a backup)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--ids-from",
            help="A file of user ids, one a line (the journal kept outside the restored database), added first.",
        )

    def handle(self, *args, **options):
        if options.get("ids_from"):
            with open(options["ids_from"], encoding="utf-8") as handle:
                ids = [int(line) for line in (raw.strip() for raw in handle) if line.isdigit()]
            added = deletion.journal_add(ids)
            self.stdout.write(f"{added} journal entries added from {options['ids_from']}")
        restored = journal.restore()
        self.stdout.write(f"{restored} journal entries read back from the storage's copy")
        replayed = deletion.replay_journal()
        self.stdout.write(f"{replayed} purges re-applied")
