"""Recompute the analytics rollups for a range of days: `manage.py analytics_rollup --from 2026-11-01 --to
2026-11-30` (default: yesterday). Idempotent: each day's rows are replaced."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.nightly import rollup_range
from analytics.rollups import yesterday

MAX_DAYS = 2 * 366


class Command(BaseCommand):
    help = "Recompute the daily analytics rollups for a range of days (Jakarta dates, inclusive)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: the first day)")

    def handle(self, *args, first=None, last=None, **options):
        try:
            start = date.fromisoformat(first) if first else yesterday()
            end = date.fromisoformat(last) if last else start
        except ValueError as error:
            raise CommandError("Dates are YYYY-MM-DD.") from error
        if end < start:
            raise CommandError("--to is before --from.")
        if (end - start).days >= MAX_DAYS:
            raise CommandError(f"At most {MAX_DAYS} days at once.")
        cells = rollup_range(start, end)
        self.stdout.write(f"rolled up {(end - start).days + 1} days: {cells} cells")
