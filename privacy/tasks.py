import logging

from celery import shared_task

from privacy import deletion, retention, shredding
from privacy.deletion import end_sessions_task  # noqa: F401 - defined beside its caller, registered here too

logger = logging.getLogger(__name__)


# --- Account deletion, purge and retention -------------------------------------------------------------


@shared_task
def purge_due_task() -> dict:
    """Hourly: accounts whose grace period is over are purged, one transaction each."""
    outcome = deletion.purge_due()
    return {"purged": outcome.purged, "skipped": outcome.skipped, "failed": outcome.failed}


@shared_task
def shred_sweep_task() -> int:
    """Hourly: files a committed purge could not delete (storage down) are deleted now."""
    return shredding.sweep()


@shared_task
def retention_task() -> dict:
    """Daily: every registered retention rule (privacy/retention.py)."""
    return retention.run_all()


# --- Export my data (privacy/export.py) ----------------------------------------------------------------


@shared_task(bind=True, max_retries=5, soft_time_limit=600, time_limit=660, acks_late=True)
def build_export_task(self, request_id: int) -> str:
    """Builds one export. Retry-safe: a request already ready is not rebuilt, one being built elsewhere is
    skipped, a failed run rolls back whole (its file is replaced by the next try); after the last retry the
    request is marked failed."""
    from django.db.models import F

    from privacy import export
    from privacy.models import ExportRequest, ExportStatus

    ExportRequest.objects.filter(pk=request_id, status=ExportStatus.PENDING).update(attempts=F("attempts") + 1)
    try:
        return export.build(request_id)
    except Exception as error:
        if self.request.called_directly or self.request.is_eager or self.request.retries >= self.max_retries:
            logger.exception("export %s failed", request_id)
            export.build_failed(request_id)
            if self.request.is_eager or self.request.called_directly:
                raise
            return "failed"
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error


@shared_task
def export_sweep_task() -> dict:
    """Every 15 minutes: pending exports no worker picked up (the broker was down) are queued again, and
    expired export files are deleted (their link has stopped working already)."""
    from django.utils import timezone

    from privacy import export

    now = timezone.now()
    requeued = export.stale_pending(now)
    for request_id in requeued:
        build_export_task.delay(request_id)
    return {"requeued": len(requeued), "expired": export.expire(now)}
