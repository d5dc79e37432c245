"""What companions holds about a person (issue 15, core/personal_data.py): the companion profile with its
photos, hours and level history; the KTP verifications; and every time staff opened a KTP or selfie."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import identifiers, iso
from companions import page_cache
from companions.models import (
    CompanionPhoto,
    CompanionProfile,
    IdentityFileView,
    IdentityVerification,
    LevelChange,
    LevelStanding,
    TimeOff,
    WeeklyHours,
)
from core import personal_data
from core.redact import redact, redact_json


def profile_of(user: User) -> CompanionProfile | None:
    return CompanionProfile.objects.filter(user_id=user.pk).select_related("city").first()


def staff_label(viewer_id: int | None) -> str:
    """How a staff member appears in a person's export: a number, not a name. The number lets the person
    (or the regulator) ask us who it was; a name would expose staff who check KTPs to being looked up."""
    if viewer_id is None:
        return str(_("Kompanion staff (account removed)"))
    return str(_("Kompanion staff #%(id)s") % {"id": viewer_id})


# --- The profile ---------------------------------------------------------------------------------------------


def export_profile(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    profile = profile_of(user)
    if profile is None:
        return []
    photos = []
    for photo in CompanionPhoto.objects.filter(profile=profile):
        name = f"photos/{photo.pk}{photo.image.name[photo.image.name.rfind('.') :]}"
        ctx.add_file(name, photo.image)
        photos.append({"file": name, "cover": photo.is_cover, "position": photo.position})
    return [
        {
            "slug": profile.slug,
            "display_name": profile.display_name,
            "bio": profile.bio,
            "city": profile.city.name if profile.city_id else None,
            "gender": profile.gender,
            "hourly_rate": profile.hourly_rate,
            "min_hours": profile.min_hours,
            "max_hours": profile.max_hours,
            "languages": sorted(profile.languages.values_list("code", flat=True)),
            "activities": sorted(profile.activities.values_list("slug", flat=True)),
            "instant_booking": profile.instant_booking,
            "paused": profile.is_paused,
            "verification_status": profile.verification_status,
            "level": profile.level,
            "rating_count": profile.rating_count,
            "created_at": iso(profile.created_at),
            "photos": photos,
            "weekly_hours": [
                {"weekday": row.weekday, "start": row.start_time.isoformat(), "minutes": row.length_minutes}
                for row in WeeklyHours.objects.filter(profile=profile)
            ],
            "time_off": [
                {"from": iso(row.start_date), "until": iso(row.end_date), "note": row.note}
                for row in TimeOff.objects.filter(profile=profile)
            ],
            "level_history": [
                {
                    "time": iso(row.created_at),
                    "what": row.kind,
                    "from": row.from_level,
                    "to": row.to_level,
                    "why": row.reason,
                    "figures": row.figures,
                }
                for row in LevelChange.objects.filter(profile=profile).order_by("created_at", "pk")
            ],
        }
    ]


def purge_profile(user: User, ctx: personal_data.PurgeContext) -> None:
    profile = profile_of(user)
    if profile is None:
        return
    needles = identifiers(user)
    for photo in CompanionPhoto.objects.filter(profile=profile):
        ctx.shred(photo.image)
        ctx.shred(photo.thumbnail)
    CompanionPhoto.objects.filter(profile=profile).delete()
    WeeklyHours.objects.filter(profile=profile).delete()
    TimeOff.objects.filter(profile=profile).delete()
    old_slug = profile.slug
    # The profile row stays (bookings, payouts and the ledger point at it); nothing in it names the person.
    CompanionProfile.objects.filter(pk=profile.pk).update(
        slug=f"former-{profile.pk}",
        display_name="",
        bio="",
        gender="",
        is_listed=False,
        is_paused=True,
        instant_booking=False,
    )
    profile.languages.clear()
    profile.activities.clear()
    for standing in LevelStanding.objects.filter(profile=profile).exclude(override_reason=""):
        standing.override_reason = redact(standing.override_reason, needles, ctx.pseudonym)
        standing.save(update_fields=["override_reason"])
    for change in LevelChange.objects.filter(profile=profile):
        reason, figures = (
            redact(change.reason, needles, ctx.pseudonym),
            redact_json(change.figures, needles, ctx.pseudonym),
        )
        if (reason, figures) != (change.reason, change.figures):
            LevelChange.objects.filter(pk=change.pk).update(reason=reason, figures=figures)
    page_cache.profile_changed(old_slug)


# --- ID verification -----------------------------------------------------------------------------------------


def export_verifications(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    # The KTP and selfie images are not in the archive (see privacy/export.py); the NIK is shown masked.
    return [
        {
            "submitted_at": iso(row.submitted_at),
            "status": row.status,
            "nik": row.nik_masked,
            "reviewed_at": iso(row.reviewed_at),
            "rejection_reason": row.rejection_reason,
            "ktp_image_kept": bool(row.ktp_image),
            "selfie_image_kept": bool(row.selfie_image),
        }
        for row in IdentityVerification.objects.filter(profile__user_id=user.pk)
        .defer("nik")
        .order_by("submitted_at", "pk")
    ]


def purge_verifications(user: User, ctx: personal_data.PurgeContext) -> None:
    needles = identifiers(user)
    for row in IdentityVerification.objects.filter(profile__user_id=user.pk).defer("nik"):
        ctx.shred(row.ktp_image)
        ctx.shred(row.selfie_image)
        # The decision stays (status, dates, the last 4 digits); the NIK and its keyed hash go: the hash
        # would let us recognise the person's KTP forever and keep a returning person from verifying again.
        IdentityVerification.objects.filter(pk=row.pk).update(
            ktp_image="",
            selfie_image="",
            nik="",
            nik_fingerprint=f"erased:{row.pk}",
            rejection_reason=redact(row.rejection_reason, needles, ctx.pseudonym),
        )


def export_file_views(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {"file": row.kind, "viewed_at": iso(row.viewed_at), "viewed_by": staff_label(row.viewer_id)}
        for row in IdentityFileView.objects.filter(verification__profile__user_id=user.pk).order_by("viewed_at", "pk")
    ]


def register() -> None:
    personal_data.register(
        "companion_profile",
        models=(
            "companions.CompanionProfile",
            "companions.CompanionPhoto",
            "companions.WeeklyHours",
            "companions.TimeOff",
            "companions.LevelStanding",
            "companions.LevelChange",
            # created_by: the staff member who set a policy (their work record, kept).
            "companions.LevelPolicy",
        ),
        export=export_profile,
        purge=purge_profile,
        kept=_(
            "A companion profile stays without name, photos, description or hours, so the bookings and payouts "
            "made through it still add up; its level history stays."
        ),
        order=900,
    )
    personal_data.register(
        "identity_verifications",
        models=("companions.IdentityVerification",),
        export=export_verifications,
        purge=purge_verifications,
        kept=_(
            "ID verification decisions stay (status, dates and the last 4 digits of the NIK); the KTP and selfie "
            "images and the NIK are deleted."
        ),
        order=900,
    )
    personal_data.register(
        "identity_file_views",
        models=("companions.IdentityFileView",),
        export=export_file_views,
        purge=None,
        kept=_("The record of when staff opened your KTP or selfie stays, as proof of who had access."),
    )
