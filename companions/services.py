"""Writes for companions: one function per thing a companion or an admin does."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from companions import images, page_cache, promoted_facts
from companions.availability import DAY_MINUTES
from companions.errors import PhotoRejected, ProfileError, ScheduleError, VerificationError
from companions.models import (
    RATING_PRIOR_REVIEWS,
    RATING_PRIOR_STARS,
    Activity,
    City,
    CompanionPhoto,
    CompanionProfile,
    IdentityVerification,
    MarketplaceSettings,
    SpokenLanguage,
    TimeOff,
    VerificationStatus,
    WeeklyHours,
)
from core import crypto
from core.bulk import update_rows
from notifications.services import notification_record

MAX_PHOTOS = 6
BIO_MIN_LENGTH = 50


# --- Profile ------------------------------------------------------------------------------------------


def _unique_slug(base: str) -> str:
    base = slugify(base)[:50] or "companion"
    slug, counter = base, 2
    while CompanionProfile.objects.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


def profile_get_or_create(*, user: User) -> CompanionProfile:
    """The companion's profile, created empty (unlisted) the first time they need it."""
    if user.role != Role.COMPANION:
        raise ProfileError(_("Only companion accounts have a companion profile."))
    try:
        return user.companion_profile
    except CompanionProfile.DoesNotExist:
        pass
    display_name = (user.full_name.split() or ["Companion"])[0][:40]
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return CompanionProfile.objects.create(
                    user=user, display_name=display_name, slug=_unique_slug(display_name)
                )
        except IntegrityError:
            # Another request created it (or took the slug) first: read it, or try a new slug.
            existing = CompanionProfile.objects.filter(user=user).first()
            if existing:
                return existing
    raise ProfileError(_("We could not create your profile. Please try again."))


@transaction.atomic
def profile_update(
    *,
    profile: CompanionProfile,
    display_name: str,
    bio: str,
    city: City,
    languages: Iterable[SpokenLanguage],
    activities: Iterable[Activity],
    hourly_rate: int,
    min_hours: int,
    max_hours: int,
    gender: str,
) -> CompanionProfile:
    bounds = MarketplaceSettings.load()
    if not bounds.min_hourly_rate <= hourly_rate <= bounds.max_hourly_rate:
        raise ProfileError(
            _("The hourly rate must be between Rp %(min)s and Rp %(max)s.")
            % {
                "min": f"{bounds.min_hourly_rate:,}".replace(",", "."),
                "max": f"{bounds.max_hourly_rate:,}".replace(",", "."),
            },
            field="hourly_rate",
        )
    if gender != profile.gender and profile.gender and identity_locked(profile):
        raise ProfileError(
            _("Your gender was checked against your KTP. Contact us if it needs to change."), field="gender"
        )
    if not 1 <= min_hours <= max_hours <= 12:
        raise ProfileError(_("The minimum hours must be between 1 and the maximum (at most 12)."), field="min_hours")
    profile.display_name = display_name.strip()
    profile.bio = bio.strip()
    profile.city = city
    profile.hourly_rate = hourly_rate
    profile.min_hours = min_hours
    profile.max_hours = max_hours
    profile.gender = gender
    profile.save()
    profile.languages.set(languages)
    profile.activities.set(activities)
    profile_refresh_listing(profile=profile)
    return profile


def profile_rating_change(*, profile_id: int, count: int, stars: int) -> None:
    """Adds `count` published reviews with `stars` overall stars in all to the companion's rating (negative
    to take a hidden one out): one atomic UPDATE, so concurrent publications never lose a review; the
    companion's pages show it after commit. Called by the reviews app inside its own transaction."""
    prior_stars, prior_count = RATING_PRIOR_STARS * RATING_PRIOR_REVIEWS, RATING_PRIOR_REVIEWS
    updated = CompanionProfile.objects.filter(pk=profile_id).update(
        rating_count=F("rating_count") + count,
        rating_total=F("rating_total") + stars,
        # bayesian_rating x 1000 of the new figures (the right side reads the row before the update)
        rating_score=(F("rating_total") + stars + prior_stars) * 1000 / (F("rating_count") + count + prior_count),
    )
    if updated:
        profile_pages_changed(profile_id=profile_id)


RELIABILITY_FIELDS = ("response_rate", "completed_recently", "cancelled_recently", "repeat_share")


def profiles_set_reliability(figures_by_profile: dict[int, dict]) -> int:
    """Stores every companion's reliability figures (RELIABILITY_FIELDS; a companion missing from the dict
    gets empty ones): one read of the stored figures, then only the rows that differ are written, in one
    statement per batch, and their pages rendered again after commit. Returns how many changed; with the
    same figures a second call writes nothing."""
    empty = {"response_rate": None, "completed_recently": 0, "cancelled_recently": 0, "repeat_share": None}
    changed, slugs = [], []
    stored = CompanionProfile.objects.values_list("pk", "slug", *RELIABILITY_FIELDS)
    for pk, slug, *values in stored.iterator(chunk_size=5000):
        new = figures_by_profile.get(pk, empty)
        row = tuple(new[name] for name in RELIABILITY_FIELDS)
        if row != tuple(values):
            changed.append((pk, *row))
            slugs.append(slug)
    with transaction.atomic():
        update_rows(CompanionProfile, RELIABILITY_FIELDS, changed)
        page_cache.profiles_changed(slugs)
    return len(changed)


def profile_pages_changed(*, profile_id: int) -> None:
    """Something the companion's pages show changed outside the profile's own edits (a review answered
    or published as removed, the rating, reliability): they are rendered again after commit."""
    slug = CompanionProfile.objects.filter(pk=profile_id).values_list("slug", flat=True).first()
    if slug is not None:
        page_cache.profile_changed(slug)


def identity_locked(profile: CompanionProfile) -> bool:
    """Details checked against the KTP (gender, date of birth, name) stay as checked while a
    verification is pending or approved; staff change them if they really must."""
    return profile.verification_status in (VerificationStatus.PENDING, VerificationStatus.APPROVED)


def profile_set_schedule_rules(
    *, profile: CompanionProfile, min_notice_minutes: int, horizon_days: int, buffer_minutes: int
) -> CompanionProfile:
    # At least 3 hours: a request must be answerable (until start − 2 h) and then payable.
    if not 180 <= min_notice_minutes <= 7 * DAY_MINUTES or min_notice_minutes % 30:
        raise ScheduleError(
            _("Minimum notice must be between 3 hours and 7 days, in steps of 30 minutes."), field="min_notice_minutes"
        )
    if not 7 <= horizon_days <= 180:
        raise ScheduleError(_("The booking horizon must be between 7 and 180 days."), field="horizon_days")
    if not 0 <= buffer_minutes <= 240 or buffer_minutes % 30:
        raise ScheduleError(_("The buffer must be 0 to 240 minutes, in steps of 30."), field="buffer_minutes")
    profile.min_notice_minutes = min_notice_minutes
    profile.horizon_days = horizon_days
    profile.buffer_minutes = buffer_minutes
    profile.save(update_fields=["min_notice_minutes", "horizon_days", "buffer_minutes", "updated_at"])
    page_cache.profile_changed(profile.slug)
    return profile


def profile_set_paused(*, profile: CompanionProfile, paused: bool, now: datetime | None = None) -> CompanionProfile:
    """Pauses or resumes the profile; a running promotion's clock pauses with it (companions/promoted_facts.py)."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = (
            CompanionProfile.objects.filter(pk=profile.pk)
            .exclude(is_paused=paused)
            .update(is_paused=paused, updated_at=now)
        )
        profile.is_paused = paused
        if changed:
            promoted_facts.paused_changed(profile=profile, paused=paused, now=now)
    profile_refresh_listing(profile=profile)
    return profile


def profile_set_instant_booking(*, profile: CompanionProfile, enabled: bool) -> CompanionProfile:
    """Instant booking: requests inside the companion's hours skip the answer step."""
    profile.instant_booking = enabled
    profile.save(update_fields=["instant_booking", "updated_at"])
    page_cache.profile_changed(profile.slug)
    return profile


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    done: bool
    waiting: bool = False  # submitted; nothing to do but wait (ID under review)


def profile_steps(profile: CompanionProfile) -> list[Step]:
    """The completeness checklist shown on the dashboard; listing needs every step done."""
    photo_count = len(profile.photos.all())
    has_hours = bool(profile.weekly_hours.all())
    return [
        Step(
            "details",
            gettext_lazy("Name, city, rate and hours per booking"),
            bool(profile.display_name and profile.city_id and profile.hourly_rate and profile.gender),
        ),
        Step("bio", gettext_lazy("About you (at least 50 characters)"), len(profile.bio) >= BIO_MIN_LENGTH),
        Step(
            "activities",
            gettext_lazy("At least one activity and one language"),
            bool(profile.activities.all() and profile.languages.all()),
        ),
        Step("photos", gettext_lazy("At least one photo"), photo_count >= 1),
        Step("hours", gettext_lazy("Weekly hours"), has_hours),
        Step(
            "verification",
            gettext_lazy("ID verification approved"),
            profile.verification_status == VerificationStatus.APPROVED,
            waiting=profile.verification_status == VerificationStatus.PENDING,
        ),
    ]


def profile_refresh_listing(*, profile: CompanionProfile) -> bool:
    """Recomputes `is_listed` (the only writer of it): complete, verified and not paused."""
    with transaction.atomic():
        return _refresh_listing_locked(profile.pk)


def _refresh_listing_locked(profile_id: int) -> bool:
    # Locked, so a photo deletion and an approval at the same moment cannot list an incomplete profile.
    CompanionProfile.objects.select_for_update().filter(pk=profile_id).first()
    profile = CompanionProfile.objects.prefetch_related("photos", "weekly_hours", "activities", "languages").get(
        pk=profile_id
    )
    listed = all(step.done for step in profile_steps(profile)) and not profile.is_paused and profile.user.is_active
    updates = {"is_listed": listed}
    if listed and profile.listed_at is None:
        updates["listed_at"] = timezone.now()
    CompanionProfile.objects.filter(pk=profile.pk).update(**updates)
    page_cache.profile_changed(profile.slug)
    return listed


# --- Photos ------------------------------------------------------------------------------------------


@transaction.atomic
def photo_add(*, profile: CompanionProfile, upload: UploadedFile) -> CompanionPhoto:
    """Validates and re-encodes the upload (metadata stripped), then stores it; the first is the cover."""
    CompanionProfile.objects.select_for_update().filter(pk=profile.pk).first()  # serialise concurrent uploads
    count = profile.photos.count()
    if count >= MAX_PHOTOS:
        raise PhotoRejected(_("You can have at most %(count)d photos. Delete one first.") % {"count": MAX_PHOTOS})
    processed = images.process_photo(upload, field="photo")
    photo = CompanionPhoto(profile=profile, position=count, is_cover=count == 0)
    photo.image.save(f"photo.{processed.extension}", processed.image, save=False)
    photo.thumbnail.save(f"thumb.{processed.extension}", processed.thumbnail, save=False)
    photo.save()
    profile_refresh_listing(profile=profile)
    return photo


@transaction.atomic
def photo_delete(*, profile: CompanionProfile, photo_id: int) -> None:
    photo = CompanionPhoto.objects.select_for_update().filter(profile=profile, pk=photo_id).first()
    if photo is None:
        raise PhotoRejected(_("That photo does not exist."))
    was_cover = photo.is_cover
    files = [photo.image.name, photo.thumbnail.name]
    storage = photo.image.storage
    photo.delete()
    remaining = list(profile.photos.order_by("position", "id"))
    for position, other in enumerate(remaining):
        other.position = position
        other.is_cover = other.is_cover or (was_cover and position == 0)
    CompanionPhoto.objects.bulk_update(remaining, ["position", "is_cover"])
    # robust: a storage outage leaves an orphan file (logged), never an error after the commit.
    transaction.on_commit(lambda: [storage.delete(name) for name in files if name], robust=True)
    profile_refresh_listing(profile=profile)


@transaction.atomic
def photo_set_cover(*, profile: CompanionProfile, photo_id: int) -> None:
    CompanionProfile.objects.select_for_update().filter(pk=profile.pk).first()  # one cover at a time
    if not profile.photos.filter(pk=photo_id).exists():
        raise PhotoRejected(_("That photo does not exist."))
    profile.photos.filter(is_cover=True).update(is_cover=False)
    profile.photos.filter(pk=photo_id).update(is_cover=True)
    page_cache.profile_changed(profile.slug)


@transaction.atomic
def photo_move(*, profile: CompanionProfile, photo_id: int, up: bool) -> None:
    """One step earlier or later in the gallery; at either end nothing changes."""
    ordered = list(profile.photos.select_for_update().order_by("position", "id").values_list("pk", flat=True))
    if photo_id not in ordered:
        raise PhotoRejected(_("That photo does not exist."))
    index = ordered.index(photo_id)
    target = index - 1 if up else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
        photo_reorder(profile=profile, ordered_ids=ordered)


@transaction.atomic
def photo_reorder(*, profile: CompanionProfile, ordered_ids: Sequence[int]) -> None:
    photos = {photo.pk: photo for photo in profile.photos.select_for_update()}
    if sorted(ordered_ids) != sorted(photos):
        raise PhotoRejected(_("The photo order does not match your photos. Reload the page and try again."))
    for position, photo_id in enumerate(ordered_ids):
        photos[photo_id].position = position
    CompanionPhoto.objects.bulk_update(photos.values(), ["position"])
    page_cache.profile_changed(profile.slug)


# --- ID verification ---------------------------------------------------------------------------------


def normalize_nik(raw: str) -> str:
    return "".join(character for character in raw if not character.isspace() and character not in ".-")


def validate_nik(nik: str, *, date_of_birth: date | None, gender: str) -> None:
    """A NIK is 16 digits: province (11–94), regency, district, then the birth date as DDMMYY with
    40 added to the day for women, then a serial that is never 0000. We check all of it."""
    if len(nik) != 16 or not nik.isdigit():
        raise VerificationError(_("The NIK must be exactly 16 digits."), field="nik")
    if not 11 <= int(nik[:2]) <= 94:
        raise VerificationError(_("This NIK does not start with a valid province code."), field="nik")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    is_woman_code = day > 40
    day = day - 40 if is_woman_code else day
    try:
        date(2000 + year, month, day)  # any century: only the day/month shape matters here
    except ValueError as error:
        raise VerificationError(_("The birth date inside this NIK is not a real date."), field="nik") from error
    if nik[12:] == "0000":
        raise VerificationError(_("This NIK is not valid."), field="nik")
    if date_of_birth is not None and (day, month, year) != (
        date_of_birth.day,
        date_of_birth.month,
        date_of_birth.year % 100,
    ):
        raise VerificationError(
            _("The birth date in this NIK does not match the date of birth on your account."), field="nik"
        )
    if gender and is_woman_code != (gender == "female"):
        raise VerificationError(_("This NIK does not match the gender on your profile."), field="nik")


@transaction.atomic
def verification_submit(
    *, profile: CompanionProfile, ktp_image: UploadedFile, selfie_image: UploadedFile, nik: str
) -> IdentityVerification:
    profile = CompanionProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    if profile.verification_status == VerificationStatus.PENDING:
        raise VerificationError(_("Your verification is already being reviewed."))
    if profile.verification_status == VerificationStatus.APPROVED:
        raise VerificationError(_("Your ID is already verified."))
    nik = normalize_nik(nik)
    validate_nik(nik, date_of_birth=profile.user.date_of_birth, gender=profile.gender)
    fingerprint = crypto.fingerprint(nik)
    taken = (
        IdentityVerification.objects.filter(nik_fingerprint=fingerprint, status=VerificationStatus.APPROVED)
        .exclude(profile=profile)
        .exists()
    )
    if taken:
        raise VerificationError(
            _("This NIK is already verified on another account. Contact us if this is wrong."), field="nik"
        )
    ktp = images.sanitize_identity_image(ktp_image, field="ktp_image")
    selfie = images.sanitize_identity_image(selfie_image, field="selfie_image")
    verification = IdentityVerification(
        profile=profile, nik=nik, nik_last4=nik[-4:], nik_fingerprint=fingerprint, status=VerificationStatus.PENDING
    )
    verification.ktp_image.save("ktp.jpg", ktp, save=False)
    verification.selfie_image.save("selfie.jpg", selfie, save=False)
    verification.save()
    profile.verification_status = VerificationStatus.PENDING
    profile.save(update_fields=["verification_status", "updated_at"])
    profile_refresh_listing(profile=profile)
    return verification


def _review(*, verification_id: int, reviewer: User, status: str, reason: str = "") -> IdentityVerification:
    if not (reviewer.is_active and reviewer.is_staff):
        raise VerificationError(_("Only staff can review verifications."))
    verification = IdentityVerification.objects.select_for_update().select_related("profile").get(pk=verification_id)
    if verification.status == status:
        return verification  # repeated click: nothing changes
    if verification.status != VerificationStatus.PENDING:
        raise VerificationError(_("This verification was already reviewed."))
    if status == VerificationStatus.APPROVED:
        duplicate = IdentityVerification.objects.filter(
            nik_fingerprint=verification.nik_fingerprint, status=VerificationStatus.APPROVED
        ).exclude(profile_id=verification.profile_id)
        if duplicate.exists():
            raise VerificationError(_("This NIK is already verified on another account. Reject this request."))
    verification.status = status
    verification.rejection_reason = reason
    verification.reviewed_by = reviewer
    verification.reviewed_at = timezone.now()
    verification.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
    profile = verification.profile
    profile.verification_status = status
    profile.save(update_fields=["verification_status", "updated_at"])
    profile_refresh_listing(profile=profile)
    event = "verification_approved" if status == VerificationStatus.APPROVED else "verification_rejected"
    notification_record(recipient=profile.user, event=event, context={"reason": reason} if reason else {})
    return verification


@transaction.atomic
def verification_approve(*, verification_id: int, reviewer: User) -> IdentityVerification:
    return _review(verification_id=verification_id, reviewer=reviewer, status=VerificationStatus.APPROVED)


@transaction.atomic
def verification_reject(*, verification_id: int, reviewer: User, reason: str) -> IdentityVerification:
    reason = reason.strip()
    if len(reason) < 10:
        raise VerificationError(
            _("Give the companion a reason (at least 10 characters) so they can fix it."), field="reason"
        )
    return _review(
        verification_id=verification_id, reviewer=reviewer, status=VerificationStatus.REJECTED, reason=reason
    )


# --- Schedule ----------------------------------------------------------------------------------------


WEEK_MINUTES = 7 * DAY_MINUTES


def _normalise_week(ranges: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Validates ranges (weekday, start minute, length) and merges touching ones, on a circular week
    (Sunday 22.00 for 4 hours runs into Monday). Overlaps are refused rather than guessed at."""
    spans = []
    for weekday, start_minute, length_minutes in ranges:
        if not 0 <= weekday <= 6:
            raise ScheduleError(_("Unknown weekday."))
        if start_minute % 30 or length_minutes % 30 or not 0 <= start_minute < DAY_MINUTES:
            raise ScheduleError(_("Times must be on the hour or half hour."))
        if not 60 <= length_minutes <= DAY_MINUTES:
            raise ScheduleError(_("Each range must be between 1 and 24 hours long."))
        begin = weekday * DAY_MINUTES + start_minute
        spans.append([begin, begin + length_minutes])
    spans.sort()
    merged: list[list[int]] = []
    for begin, finish in spans:
        if merged and begin < merged[-1][1]:
            raise ScheduleError(_("Some of your hours overlap. Make each range end before the next one starts."))
        if merged and begin == merged[-1][1]:
            merged[-1][1] = finish
        else:
            merged.append([begin, finish])
    if len(merged) > 1 and merged[-1][1] > WEEK_MINUTES + merged[0][0]:
        raise ScheduleError(_("Some of your hours overlap. Make each range end before the next one starts."))
    if len(merged) > 1 and merged[-1][1] == WEEK_MINUTES + merged[0][0]:
        first = merged.pop(0)
        merged[-1][1] += first[1] - first[0]
    result = []
    for begin, finish in merged:
        if finish - begin > DAY_MINUTES:
            raise ScheduleError(_("A single range can be at most 24 hours. Leave a break between days."))
        result.append((begin // DAY_MINUTES % 7, begin % DAY_MINUTES, finish - begin))
    return sorted(result)


@transaction.atomic
def weekly_hours_replace(*, profile: CompanionProfile, ranges: Iterable[tuple[int, int, int]]) -> list[WeeklyHours]:
    """Replaces all weekly hours with `ranges` of (weekday Mon=0, start minute, length minutes)."""
    normalised = _normalise_week(ranges)
    profile.weekly_hours.all().delete()
    created = WeeklyHours.objects.bulk_create(
        [
            WeeklyHours(profile=profile, weekday=weekday, start_minute=start, length_minutes=length)
            for weekday, start, length in normalised
        ]
    )
    profile_refresh_listing(profile=profile)
    return created


def time_off_add(*, profile: CompanionProfile, start_date: date, end_date: date, note: str = "") -> TimeOff:
    if end_date < start_date:
        raise ScheduleError(_("The end date must be on or after the start date."), field="end_date")
    if (end_date - start_date).days > 366:
        raise ScheduleError(_("Time off can be at most a year at a time."), field="end_date")
    time_off = TimeOff.objects.create(
        profile=profile, start_date=start_date, end_date=end_date, note=note.strip()[:120]
    )
    page_cache.profile_changed(profile.slug)
    return time_off


def time_off_delete(*, profile: CompanionProfile, time_off_id: int) -> None:
    deleted, _count = TimeOff.objects.filter(profile=profile, pk=time_off_id).delete()
    if not deleted:
        raise ScheduleError(_("That time off does not exist."))
    page_cache.profile_changed(profile.slug)
