"""Deleting stored files only once the purge that let them go has committed.

Inside the purge's transaction each file becomes a `PendingShred` row; after the commit the files are
deleted and their rows removed. A rolled-back purge leaves no row and loses no file; a storage outage
after the commit leaves the rows, and `sweep()` (a beat task) deletes those files later.
"""

from __future__ import annotations

import logging

from django.core.files.storage import storages
from django.db import transaction

from privacy.models import PendingShred

logger = logging.getLogger(__name__)

STORAGE_ALIASES = ("private", "default")


def storage_alias(storage) -> str:
    """The STORAGES alias of a storage instance (the purge hands over FieldFile storages)."""
    for alias in STORAGE_ALIASES:
        if storages[alias] is storage:
            return alias
    for alias in STORAGE_ALIASES:  # a storage built apart (a test's override): the same class and place
        candidate = storages[alias]
        if type(candidate) is type(storage) and getattr(candidate, "location", None) == getattr(
            storage, "location", None
        ):
            return alias
    return "default"


def _delete(alias: str, name: str) -> bool:
    try:
        storages[alias].delete(name)  # a missing file is no error (FileSystemStorage and S3 alike)
    except Exception:  # noqa: BLE001 - left for the sweep
        logger.warning("shred of a %s file failed; left for the sweep", alias)
        return False
    return True


def shred_pending(rows: list[PendingShred]) -> int:
    done = 0
    for row in rows:
        if _delete(row.storage, row.name):
            PendingShred.objects.filter(pk=row.pk).delete()
            done += 1
    return done


def shred_after_commit(files: list[tuple[object, str]]) -> None:
    """Call inside the transaction: records the files, and deletes them after the commit."""
    if not files:
        return
    keys = {(storage_alias(storage), name) for storage, name in files}
    PendingShred.objects.bulk_create(
        [PendingShred(storage=alias, name=name) for alias, name in sorted(keys)], ignore_conflicts=True
    )

    def shred_committed() -> None:
        for alias in STORAGE_ALIASES:
            gone = [name for key_alias, name in sorted(keys) if key_alias == alias and _delete(alias, name)]
            if gone:
                PendingShred.objects.filter(storage=alias, name__in=gone).delete()

    transaction.on_commit(shred_committed, robust=True)


def sweep(limit: int = 1000) -> int:
    """Deletes the files a committed purge left behind (the storage was down). Returns how many."""
    return shred_pending(list(PendingShred.objects.order_by("pk")[:limit]))
