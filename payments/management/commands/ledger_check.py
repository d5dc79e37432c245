from django.core.management.base import BaseCommand, CommandError

from payments import ledger


class Command(BaseCommand):
    help = "Proves the ledger balances: every journal's entries sum to zero (exit 1 if one does not)."

    def handle(self, *args, **options):
        report = ledger.check()
        self.stdout.write(
            f"journals: {report.journals}  entries: {report.entries}  sum of all entries: {report.total} (must be 0)"
        )
        for kind, amount in report.by_kind.items():
            self.stdout.write(f"  {kind:<10} {amount:>16,}")
        if not report.balanced:
            for reference in report.unbalanced:
                self.stderr.write(f"UNBALANCED: {reference}")
            raise CommandError(f"{len(report.unbalanced)} journal(s) do not balance")
        self.stdout.write(self.style.SUCCESS("ledger balanced"))
