"""Re-encrypt every EncryptedTextField value with the current key (the first of FIELD_ENCRYPTION_KEYS).

Rotation: put a new key first (FIELD_ENCRYPTION_KEYS=new,old), deploy, run this command, and once it
reports no value left under an old key ("0 rotated" on a second run), remove the old key.

Finds the fields through the app registry (core imports no app). Each field is walked in primary-key
order in batches, one transaction per batch. A value is written back only if it is still the ciphertext
that was read (compare-and-set on the raw column), so a concurrent save is never overwritten: that save
used the current key anyway. Values already under the current key are left alone, which makes a second
run change nothing. --dry-run counts without writing.
"""

from dataclasses import dataclass

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast

from core import crypto
from core.crypto import EncryptedTextField

RAW = "_ciphertext"


@dataclass
class FieldCount:
    rotated: int = 0
    current: int = 0
    changed_meanwhile: int = 0
    unreadable: int = 0


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        for field in meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field))
    return found


def raw_rows(model: type[models.Model], field: EncryptedTextField):
    """The table with the stored ciphertext as `_ciphertext` (a cast to text skips the field's decryption)."""
    return (
        model._base_manager.annotate(**{RAW: Cast(field.attname, models.TextField())})
        .exclude(**{f"{field.attname}__isnull": True})
        .exclude(**{RAW: ""})
    )


def rotate_field(model, field, *, batch_size: int, dry_run: bool) -> FieldCount:
    count = FieldCount()
    last_pk = None
    while True:
        with transaction.atomic():
            rows = raw_rows(model, field).order_by("pk")
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows.values_list("pk", RAW)[:batch_size])
            if not batch:
                return count
            last_pk = batch[-1][0]
            for pk, token in batch:
                if crypto.is_current(token):
                    count.current += 1
                    continue
                try:
                    new_token = crypto.rotate(token)
                except ValueError:
                    count.unreadable += 1
                    continue
                if dry_run:
                    count.rotated += 1
                    continue
                # Compare-and-set: written only if nobody saved the row since we read it.
                updated = (
                    model._base_manager.alias(**{RAW: Cast(field.attname, models.TextField())})
                    .filter(pk=pk, **{RAW: token})
                    .update(**{field.attname: models.Value(new_token, output_field=models.TextField())})
                )
                if updated:
                    count.rotated += 1
                else:
                    count.changed_meanwhile += 1


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEYS (key rotation)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be re-encrypted; write nothing")
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args, dry_run: bool = False, batch_size: int = 500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        verb = "would rotate" if dry_run else "rotated"
        unreadable = 0
        for model, field in encrypted_fields():
            count = rotate_field(model, field, batch_size=batch_size, dry_run=dry_run)
            unreadable += count.unreadable
            label = f"{model._meta.label}.{field.name}"
            self.stdout.write(
                f"{label}: {count.rotated} {verb}, {count.current} already current, "
                f"{count.changed_meanwhile} changed meanwhile, {count.unreadable} unreadable"
            )
        if unreadable:
            raise CommandError(
                f"{unreadable} value(s) open with no key in FIELD_ENCRYPTION_KEYS: keep the old keys until fixed."
            )
