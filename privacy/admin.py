from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_site import RecordAdminMixin, WorkQueue, register_work_queue
from privacy.models import DeletionRequest, ExportRequest, ExportStatus, PendingShred, PurgeRecord

# The law gives 3×24 hours to answer; the admin shows what has waited more than a day.
EXPORT_OVERDUE_AFTER = timedelta(hours=24)


@admin.register(ExportRequest)
class ExportRequestAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Data exports: read only (the token is never stored, the file is the person's and is not linked)."""

    list_display = ("requested_at", "user", "status", "ready_at", "expires_at", "size", "attempts")
    list_filter = ("status",)
    list_select_related = ("user",)
    date_hierarchy = "requested_at"
    raw_id_fields = ("user",)
    exclude = ("token_hash", "file")
    search_fields = ("=user__id",)


def _overdue_exports():
    return ExportRequest.objects.filter(
        status__in=(ExportStatus.PENDING, ExportStatus.FAILED),
        requested_at__lte=timezone.now() - EXPORT_OVERDUE_AFTER,
    )


register_work_queue(
    WorkQueue(
        key="privacy_exports_overdue",
        label=_("Data exports older than 24 hours, not ready"),
        rows=_overdue_exports,
        since_field="requested_at",
        url_name="admin:privacy_exportrequest_changelist",
        url_query="status__in=pending,failed",
        permission="privacy.view_exportrequest",
    )
)


# --- Account deletions and the purge journal (privacy/deletion.py) ----------------------------------------------


@admin.register(DeletionRequest)
class DeletionRequestAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Account deletions: read only (a person cancels by logging in; the hourly job purges after the grace)."""

    list_display = ("requested_at", "user", "status", "purge_after", "cancelled_at", "purged_at")
    list_filter = ("status",)
    list_select_related = ("user",)
    date_hierarchy = "requested_at"
    raw_id_fields = ("user",)
    search_fields = ("=user__id",)


@admin.register(PurgeRecord)
class PurgeRecordAdmin(RecordAdminMixin, admin.ModelAdmin):
    """The purge journal (user ids only), re-applied after a backup restore: manage.py replay_purge_journal."""

    list_display = ("user_id", "purged_at")
    date_hierarchy = "purged_at"
    search_fields = ("=user_id",)


@admin.register(PendingShred)
class PendingShredAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Files a committed purge could not delete yet (the storage was down); the hourly sweep retries them."""

    list_display = ("created_at", "storage", "name")
    list_filter = ("storage",)


register_work_queue(
    WorkQueue(
        key="privacy_shreds_pending",
        label=_("Files of purged accounts not deleted yet"),
        rows=lambda: PendingShred.objects.filter(created_at__lte=timezone.now() - timedelta(hours=2)),
        since_field="created_at",
        url_name="admin:privacy_pendingshred_changelist",
        url_query="",
        permission="privacy.view_pendingshred",
    )
)
