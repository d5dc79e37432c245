"""A person's rights over their data (UU PDP No. 27/2022, issue 15).

- `ExportRequest`: "export my data": built by a background job into a ZIP in private storage; the link
  carries a random token (only its keyed hash is stored), works only for its person, for 48 hours; the
  file is deleted after that. The law's deadline is 3×24 hours; the admin shows requests older than 24.
- `DeletionRequest`: "delete my account": the account is deactivated at once and purged after the grace
  period (14 days) unless the person logs in meanwhile, which cancels it.
- `PurgeRecord`: the journal of purges (the user id and when; nothing that identifies the person), kept
  so a purge can be re-applied after a backup is restored.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companions.models import private_storage


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


def export_upload_to(instance: "ExportRequest", filename: str) -> str:
    return f"exports/{instance.token_hash[:32]}.zip"


class ExportRequest(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_requests", verbose_name=_("user")
    )
    status = models.CharField(_("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    token_hash = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to=export_upload_to, storage=private_storage, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["user", "-requested_at"], name="privacy_export_by_user")]

    def __str__(self) -> str:
        return f"export {self.pk} of user {self.user_id}"


class DeletionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")
    PURGED = "purged", _("Purged")


class DeletionRequest(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deletion_requests", verbose_name=_("user")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeletionStatus.choices, default=DeletionStatus.SCHEDULED
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    purge_after = models.DateTimeField(_("purge after"), db_index=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("account deletion")
        verbose_name_plural = _("account deletions")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="scheduled"), name="privacy_one_scheduled_deletion"
            )
        ]

    def __str__(self) -> str:
        return f"deletion of user {self.user_id}"


class PurgeRecord(models.Model):
    """The purge journal: which user id was purged and when (re-applied after a restore)."""

    user_id = models.BigIntegerField(unique=True)
    purged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("purge record")
        verbose_name_plural = _("purge journal")

    def __str__(self) -> str:
        return f"user {self.user_id} purged"


class PendingShred(models.Model):
    """A stored file that a committed purge or retention run must delete; removed once it is gone (a sweep
    retries what failed, so an outage of the storage never leaves a file behind)."""

    storage = models.CharField(max_length=16)  # "private" or "default"
    name = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["storage", "name"], name="privacy_shred_once")]

    def __str__(self) -> str:
        return f"{self.storage}:{self.name}"
