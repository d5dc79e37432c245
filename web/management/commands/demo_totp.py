"""Prints the demo admin's current two-factor code (dev only)."""

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import ADMIN_TOTP_SECRET

TOTP_PERIOD = 30


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo admin (only with DEBUG on)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_totp runs only with DEBUG on.")
        now = int(time.time())
        code = format_hotp_value(hotp_value(ADMIN_TOTP_SECRET, now // TOTP_PERIOD))
        self.stdout.write(f"{code}  (valid for {TOTP_PERIOD - now % TOTP_PERIOD} more seconds)")
