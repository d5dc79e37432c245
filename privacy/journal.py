"""The purge journal kept outside the database, so a restored backup cannot bring a deleted person back.

Each purge writes `purge-journal/<user id>` (the id and the time, nothing that identifies the person) to the
private storage (S3 in production: backed up apart from PostgreSQL, versioned). After a database restore,
`manage.py replay_purge_journal` reads these objects back into `PurgeRecord` and purges everyone in it again.
The copy is written after the purge commits; the hourly sweep writes any the storage missed (an outage)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.files.base import ContentFile

from companions.models import private_storage
from privacy.models import PurgeRecord

logger = logging.getLogger(__name__)

FOLDER = "purge-journal"


def _name(user_id: int) -> str:
    return f"{FOLDER}/{user_id}"


def write(user_id: int, purged_at: datetime) -> None:
    """One journal object (idempotent: an existing one is left as it is)."""
    storage = private_storage()
    name = _name(user_id)
    if not storage.exists(name):
        storage.save(name, ContentFile(f"{user_id} {purged_at.isoformat()}\n".encode("ascii")))


def stored_ids() -> set[int]:
    try:
        _folders, files = private_storage().listdir(FOLDER)
    except FileNotFoundError:
        return set()
    return {int(name) for name in files if name.isdigit()}


def sync() -> int:
    """Writes the journal objects the storage lacks (a write failed after a purge); returns how many."""
    stored = stored_ids()
    written = 0
    for user_id, purged_at in PurgeRecord.objects.order_by("pk").values_list("user_id", "purged_at"):
        if user_id not in stored:
            try:
                write(user_id, purged_at)
            except OSError:
                logger.warning("purge journal: the storage refused a write; the next sweep tries again")
                break
            written += 1
    return written


def restore() -> int:
    """Reads the stored journal back into the database (after a restore); returns how many were missing."""
    ids = sorted(stored_ids())
    before = PurgeRecord.objects.count()
    PurgeRecord.objects.bulk_create([PurgeRecord(user_id=user_id) for user_id in ids], ignore_conflicts=True)
    return PurgeRecord.objects.count() - before
