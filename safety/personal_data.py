"""What safety holds about a person (issue 15, core/personal_data.py): their trusted contact and the links
they shared, the safety steps of their bookings, and the reports they made about others (the reporter's
side only: never a report about them, never the staff's decisions about them)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import identifiers, iso
from bookings.personal_data import bookings_of
from core import personal_data
from core.redact import redact
from safety.models import ModerationAction, PersonReport, SafetyAlert, SafetyEvent, ShareLink, TrustedContact


def export_trusted_contact(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {"name": row.name, "phone": row.phone, "updated_at": iso(row.updated_at)}
        for row in TrustedContact.objects.filter(user_id=user.pk)
    ]


def purge_trusted_contact(user: User, ctx: personal_data.PurgeContext) -> None:
    TrustedContact.objects.filter(user_id=user.pk).delete()


def export_share_links(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {
            "booking": row.booking.reference,
            "created_at": iso(row.created_at),
            "expires_at": iso(row.expires_at),
            "revoked_at": iso(row.revoked_at),
        }
        for row in ShareLink.objects.filter(user_id=user.pk).select_related("booking").order_by("created_at")
    ]


def purge_share_links(user: User, ctx: personal_data.PurgeContext) -> None:
    ShareLink.objects.filter(user_id=user.pk).delete()


def _booking_filter(user: User) -> Q:
    # The person's bookings by indexed columns (a join on the profile's user scanned every booking).
    return Q(booking_id__in=bookings_of(user).values("pk"))


def export_safety_events(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    rows = []
    for event in (
        SafetyEvent.objects.filter(_booking_filter(user)).select_related("booking").order_by("created_at", "id")
    ):
        if event.actor_id is None:
            by = "kompanion"
        elif event.actor_id == user.pk:
            by = "you"
        else:
            by = "other"
        rows.append({"booking": event.booking.reference, "what": event.kind, "time": iso(event.created_at), "by": by})
    return rows


def purge_safety_events(user: User, ctx: personal_data.PurgeContext) -> None:
    needles = identifiers(user)
    alerts = SafetyAlert.objects.filter(Q(raised_by_id=user.pk) | _booking_filter(user) | Q(report__reporter_id=user.pk)
                                        | Q(report__reported_id=user.pk))  # fmt: skip
    for alert in alerts.exclude(note="").only("pk", "note"):
        note = redact(alert.note, needles, ctx.pseudonym)
        if note != alert.note:
            SafetyAlert.objects.filter(pk=alert.pk).update(note=note)


def export_person_reports(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {
            "about": report.reported.get_short_name(),
            "booking": report.booking.reference if report.booking_id else None,
            "category": report.category,
            "what_happened": report.description,
            "booking_cancelled_for_safety": report.cancelled_booking,
            "status": report.status,
            "reported_at": iso(report.created_at),
            "closed_at": iso(report.closed_at),
        }
        for report in PersonReport.objects.filter(reporter_id=user.pk)
        .select_related("reported", "booking")
        .order_by("created_at")
    ]


def purge_person_reports(user: User, ctx: personal_data.PurgeContext) -> None:
    """Reports and decisions stay for the safety record (a banned person must not come back unseen); the
    person's names and number go from their texts."""
    needles = identifiers(user)
    for report in PersonReport.objects.filter(Q(reporter_id=user.pk) | Q(reported_id=user.pk)).only(
        "pk", "description"
    ):
        description = redact(report.description, needles, ctx.pseudonym)
        if description != report.description:
            PersonReport.objects.filter(pk=report.pk).update(description=description)
    for action in ModerationAction.objects.filter(Q(user_id=user.pk) | Q(report__reporter_id=user.pk)).only(
        "pk", "reason"
    ):
        reason = redact(action.reason, needles, ctx.pseudonym)
        if reason != action.reason:
            ModerationAction.objects.filter(pk=action.pk).update(reason=reason)


def register() -> None:
    personal_data.register(
        "trusted_contact",
        models=("safety.TrustedContact",),
        export=export_trusted_contact,
        purge=purge_trusted_contact,
    )
    personal_data.register(
        "share_links", models=("safety.ShareLink",), export=export_share_links, purge=purge_share_links
    )
    personal_data.register(
        "safety_events",
        # SafetyAlert: raised_by / handled_by (the person's SOS, the staff member who handled it).
        models=("safety.SafetyEvent", "safety.SafetyAlert", "safety.Meeting"),
        export=export_safety_events,
        purge=purge_safety_events,
        kept=_("The safety steps of your bookings (check-in, SOS, welfare checks) stay with the bookings."),
    )
    personal_data.register(
        "person_reports",
        # ModerationAction: staff decisions about the person (never exported: they may name who reported).
        models=("safety.PersonReport", "safety.ModerationAction"),
        export=export_person_reports,
        purge=purge_person_reports,
        kept=_(
            "Reports made by or about you and the decisions taken stay for our safety records, without your "
            "name or number."
        ),
    )
