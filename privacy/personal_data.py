"""What privacy holds about a person (issue 15, core/personal_data.py): their data exports and deletion
requests."""

from __future__ import annotations

from accounts.models import User
from accounts.personal_data import iso
from core import personal_data
from privacy.models import DeletionRequest, ExportRequest


def export_requests(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    rows: list[dict] = [
        {
            "record": "export",
            "status": row.status,
            "requested_at": iso(row.requested_at),
            "ready_at": iso(row.ready_at),
            "expires_at": iso(row.expires_at),
        }
        for row in ExportRequest.objects.filter(user_id=user.pk).order_by("requested_at")
    ]
    rows += [
        {
            "record": "deletion",
            "status": row.status,
            "requested_at": iso(row.requested_at),
            "purge_after": iso(row.purge_after),
            "cancelled_at": iso(row.cancelled_at),
        }
        for row in DeletionRequest.objects.filter(user_id=user.pk).order_by("requested_at")
    ]
    return rows


def purge_requests(user: User, ctx: personal_data.PurgeContext) -> None:
    # The exports (and their files) go; the deletion request stays: it records that the purge happened.
    for row in ExportRequest.objects.filter(user_id=user.pk):
        ctx.shred(row.file)
    ExportRequest.objects.filter(user_id=user.pk).delete()


def register() -> None:
    from privacy import export

    # Export files are deleted once their link has expired (48 hours).
    export.register_retention()
    personal_data.register(
        "privacy_requests",
        models=("privacy.ExportRequest", "privacy.DeletionRequest"),
        export=export_requests,
        purge=purge_requests,
    )
