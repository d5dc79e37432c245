import logging

from celery import shared_task

from privacy import deletion, journal, retention, shredding

# Export my data: defined beside the export, named in this module ("privacy.tasks.<name>").
from privacy.export import build_export_task, export_sweep_task  # noqa: F401

logger = logging.getLogger(__name__)


# --- Account deletion, purge and retention -------------------------------------------------------------


@shared_task
def purge_due_task() -> dict:
    """Hourly: accounts whose grace period is over are purged, one transaction each."""
    outcome = deletion.purge_due()
    written = journal.sync()  # the journal's copies a storage outage kept from being written
    return {"purged": outcome.purged, "skipped": outcome.skipped, "failed": outcome.failed, "journal": written}


@shared_task
def shred_sweep_task() -> int:
    """Hourly: files a committed purge could not delete (storage down) are deleted now."""
    return shredding.sweep()


@shared_task
def retention_task() -> dict:
    """Daily: every registered retention rule (privacy/retention.py)."""
    return retention.run_all()
