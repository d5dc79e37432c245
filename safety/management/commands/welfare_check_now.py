"""The demo clock for the welfare check: runs the sweep now, or as if it were `--at` (ISO 8601, e.g.
2026-12-07T21:00+07:00). The beat task runs the same sweep every minute."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from safety.welfare import welfare_sweep


class Command(BaseCommand):
    help = "Runs the welfare check now (or at --at): asks at end + 15 min, escalates at end + 30 min."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--at", help="the moment to sweep at, ISO 8601 (default: now)")

    def handle(self, *args, at=None, **options) -> None:
        now = timezone.now()
        if at:
            try:
                now = datetime.fromisoformat(at)
            except ValueError as error:
                raise CommandError(f"--at: not an ISO 8601 time: {at!r}") from error
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        result = welfare_sweep(now=now)
        self.stdout.write(
            f"welfare check at {now.isoformat()}: {result['asked']} asked, {result['escalated']} escalated"
        )
