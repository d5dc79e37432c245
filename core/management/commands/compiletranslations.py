"""Compiles our .po files to .mo with polib, so no GNU gettext is needed on the machine.

Django's own `compilemessages` shells out to msgfmt; a fresh machine with only Python has none.
Third-party apps (Django, allauth) ship their .mo files compiled already.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the project's translations (locale/*/LC_MESSAGES/*.po) without GNU gettext."

    def handle(self, *args, **options):
        compiled = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                try:
                    catalog = polib.pofile(str(po_path))
                except (OSError, ValueError) as error:
                    raise CommandError(f"{po_path}: {error}") from error
                catalog.save_as_mofile(str(mo_path))
                compiled += 1
                self.stdout.write(f"compiled {po_path.relative_to(settings.BASE_DIR)}")
        self.stdout.write(self.style.SUCCESS(f"translations up to date ({compiled} compiled)"))
