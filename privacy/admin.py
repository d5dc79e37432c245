from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_site import RecordAdminMixin, WorkQueue, register_work_queue
from privacy.models import ExportRequest, ExportStatus

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
