"""Retention of KTP and selfie images (issue 15): shredded RETENTION_KTP_DAYS after the verification
decision. The decision, the masked NIK (its last 4 digits) and its keyed hash stay (one NIK, one approved
account); the encrypted full NIK goes with the images. Files are deleted before the row is blanked, so an
interruption leaves at most a row pointing at a file already gone, which the next run blanks."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from companions.models import IdentityVerification, VerificationStatus
from core import personal_data

SETTING = "RETENTION_KTP_DAYS"


def describe() -> str:
    return _(
        "KTP and selfie photos, and the full NIK, are deleted %(days)d days after the verification decision; the "
        "decision and the last 4 digits of the NIK stay."
    ) % {"days": getattr(settings, SETTING)}


def run(now: datetime) -> int:
    cutoff = now - timedelta(days=getattr(settings, SETTING))
    due = (
        IdentityVerification.objects.filter(
            status__in=(VerificationStatus.APPROVED, VerificationStatus.REJECTED), reviewed_at__lte=cutoff
        )
        .exclude(ktp_image="", selfie_image="", nik="")
        .order_by("pk")
    )
    touched = 0
    for verification in due.iterator(chunk_size=500):
        for image in (verification.ktp_image, verification.selfie_image):
            if image:
                image.storage.delete(image.name)
        IdentityVerification.objects.filter(pk=verification.pk).update(ktp_image="", selfie_image="", nik="")
        touched += 1
    return touched


def register() -> None:
    personal_data.register_retention("ktp_images", setting=SETTING, describe=describe, run=run)
