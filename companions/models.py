import uuid
from datetime import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files.storage import storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField
from core.i18n import IndonesianTimeZone


def private_storage():
    """KTP and selfie images: never under MEDIA_URL, never public (S3: no ACL, presigned reads)."""
    return storages["private"]


class BilingualName(models.Model):
    """A name kept in both languages; `name` picks the active one."""

    name_id = models.CharField(_("name (Indonesian)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "id").startswith("en") else self.name_id


class City(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    province = models.CharField(_("province"), max_length=80)
    time_zone = models.CharField(_("time zone"), max_length=32, choices=IndonesianTimeZone.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Activity(BilingualName):
    """What a booking is for; managed in admin, seeded by a migration."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    description_id = models.CharField(_("description (Indonesian)"), max_length=160, blank=True)
    description_en = models.CharField(_("description (English)"), max_length=160, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["position", "slug"]

    @property
    def description(self) -> str:
        return self.description_en if (get_language() or "id").startswith("en") else self.description_id


class SpokenLanguage(BilingualName):
    code = models.CharField(_("code"), max_length=8, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        verbose_name = _("spoken language")
        verbose_name_plural = _("spoken languages")
        ordering = ["position", "code"]


class MarketplaceSettings(models.Model):
    """One row, edited in admin: the bounds every companion's rate must stay within."""

    min_hourly_rate = models.BigIntegerField(_("minimum hourly rate (Rp)"), default=50_000)
    max_hourly_rate = models.BigIntegerField(_("maximum hourly rate (Rp)"), default=2_000_000)

    class Meta:
        verbose_name = _("marketplace settings")
        verbose_name_plural = _("marketplace settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_hourly_rate__gt=0) & models.Q(max_hourly_rate__gte=models.F("min_hourly_rate")),
                name="companions_settings_rate_bounds_valid",
            )
        ]

    def __str__(self) -> str:
        return str(_("Marketplace settings"))

    @classmethod
    def load(cls) -> "MarketplaceSettings":
        instance, _created = cls.objects.get_or_create(pk=1)
        return instance


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class VerificationStatus(models.TextChoices):
    NOT_SUBMITTED = "not_submitted", _("Not submitted")
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Level(models.TextChoices):
    # The names are the programme's own (the same in every language), in rank order.
    BARU = "baru", "Baru"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    PLATINUM = "platinum", "Platinum"


LEVEL_RANK = {level: rank for rank, level in enumerate(Level.values)}


# Ratings: a Bayesian mean, as if every companion also had RATING_PRIOR_REVIEWS reviews of
# RATING_PRIOR_STARS, so 5.0 from one review does not beat 4.8 from sixty. Shown from RATING_SHOWN_FROM
# published reviews on.
RATING_PRIOR_REVIEWS = 5
RATING_PRIOR_STARS = 4
RATING_SHOWN_FROM = 3


def bayesian_rating(total: int, count: int) -> Decimal:
    """(prior stars x prior reviews + the stars) / (prior reviews + the reviews), to one decimal."""
    mean = Decimal(RATING_PRIOR_STARS * RATING_PRIOR_REVIEWS + total) / Decimal(RATING_PRIOR_REVIEWS + count)
    return mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class CompanionProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="companion_profile")
    slug = models.SlugField(_("profile address"), max_length=60, unique=True)
    display_name = models.CharField(_("display name"), max_length=40, blank=True)
    bio = models.TextField(_("about me"), max_length=1500, blank=True)
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, null=True, blank=True, related_name="companions", verbose_name=_("city")
    )
    languages = models.ManyToManyField(
        SpokenLanguage, blank=True, related_name="companions", verbose_name=_("languages")
    )
    activities = models.ManyToManyField(Activity, blank=True, related_name="companions", verbose_name=_("activities"))
    hourly_rate = models.BigIntegerField(_("hourly rate (Rp)"), null=True, blank=True)
    min_hours = models.PositiveSmallIntegerField(
        _("minimum hours per booking"), default=2, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    max_hours = models.PositiveSmallIntegerField(
        _("maximum hours per booking"), default=6, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    # Schedule rules (DESIGN.md section 3).
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice (minutes)"), default=180)
    horizon_days = models.PositiveSmallIntegerField(_("booking horizon (days)"), default=60)
    buffer_minutes = models.PositiveSmallIntegerField(_("buffer between bookings (minutes)"), default=30)

    instant_booking = models.BooleanField(
        _("instant booking"),
        default=False,
        help_text=_("Requests inside your hours are accepted at once; the customer pays straight away."),
    )
    is_paused = models.BooleanField(_("paused"), default=False)
    verification_status = models.CharField(
        _("verification"), max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.NOT_SUBMITTED
    )
    # Derived by services.profile_refresh_listing(): complete and verified and not paused. Stored (and
    # indexed) because search filters 20,000 profiles by it; only that one function writes it.
    is_listed = models.BooleanField(_("listed"), default=False, db_index=True)
    listed_at = models.DateTimeField(_("first listed"), null=True, blank=True)
    # Customers' published, not hidden, reviews of this companion: how many and the sum of their overall
    # stars. Written only by services.profile_rating_change (atomic, from the reviews app).
    rating_count = models.PositiveIntegerField(_("published reviews"), default=0)
    rating_total = models.PositiveIntegerField(_("their stars, summed"), default=0)
    # bayesian_rating(rating_total, rating_count) x 1000, kept with them: search's "best rated" order
    # walks an index on it instead of sorting every candidate.
    rating_score = models.PositiveIntegerField(_("rating score"), default=RATING_PRIOR_STARS * 1000)
    # Reliability over the last 90 days, recomputed daily by bookings (bookings/reliability.py) and written
    # only by services.profiles_set_reliability. A rate is None while there is too little to go on.
    response_rate = models.PositiveSmallIntegerField(_("requests answered in time (%)"), null=True, blank=True)
    completed_recently = models.PositiveIntegerField(_("bookings completed (90 days)"), default=0)
    cancelled_recently = models.PositiveIntegerField(_("cancelled after accepting (90 days)"), default=0)
    repeat_share = models.PositiveSmallIntegerField(_("customers who booked again (%)"), null=True, blank=True)
    # The level (see LevelPolicy below), written only by companions/levels.py; it sets the commission.
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.BARU)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("companion profile")
        verbose_name_plural = _("companion profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_hours__gte=1) & models.Q(max_hours__gte=models.F("min_hours")),
                name="companions_profile_hours_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(hourly_rate__isnull=True) | models.Q(hourly_rate__gt=0),
                name="companions_profile_rate_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(rating_total__gte=models.F("rating_count"))
                & models.Q(rating_total__lte=models.F("rating_count") * 5),
                name="companions_profile_rating_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["is_listed", "city", "hourly_rate"], name="companions_listed_city_rate"),
            # Partial, like the one below, rather than led by is_listed: an index whose first column is
            # is_listed looks "in table order" to PostgreSQL's planner (the column's correlation is ~0.9),
            # so it preferred scanning every city's listed profiles in listed_at order over this city's.
            models.Index(fields=["-listed_at"], condition=models.Q(is_listed=True), name="companions_newest_listed"),
            models.Index(
                fields=["city", "listed_at"], condition=models.Q(is_listed=True), name="companions_listed_by_city"
            ),
            models.Index(
                fields=["city", "-rating_score", "listed_at"],
                condition=models.Q(is_listed=True),
                name="companions_best_rated_by_city",
            ),
            models.Index(
                fields=["-rating_score", "listed_at"], condition=models.Q(is_listed=True), name="companions_best_rated"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.slug

    @property
    def is_bookable(self) -> bool:
        """BOOKABLE (below), said of a row already loaded (e.g. from the fragment cache)."""
        return self.is_listed and not self.is_paused and self.user.is_active

    @property
    def rating(self) -> Decimal | None:
        """The rating shown on the profile and cards (see `bayesian_rating`), or None below
        RATING_SHOWN_FROM published reviews."""
        if self.rating_count < RATING_SHOWN_FROM:
            return None
        return bayesian_rating(self.rating_total, self.rating_count)

    @property
    def time_zone(self) -> str:
        """Hours are kept in the zone of the city where the companion meets people."""
        return self.city.time_zone if self.city_id else self.user.time_zone


# Who can be booked: listed, not paused, with an active account (CompanionProfile.is_bookable is its twin).
BOOKABLE = models.Q(is_listed=True, is_paused=False, user__is_active=True)


def photo_upload_to(instance, filename: str) -> str:
    # The server names every file; nothing the uploader typed reaches a path or URL.
    return f"companions/photos/{uuid.uuid4().hex}{filename[filename.rfind('.') :]}"


def identity_upload_to(instance, filename: str) -> str:
    return f"identity/{uuid.uuid4().hex}{filename[filename.rfind('.') :]}"


class CompanionPhoto(models.Model):
    profile = models.ForeignKey(CompanionProfile, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to=photo_upload_to, width_field="width", height_field="height")
    thumbnail = models.ImageField(_("thumbnail"), upload_to=photo_upload_to)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_cover = models.BooleanField(_("cover"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["-is_cover", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile"], condition=models.Q(is_cover=True), name="companions_photo_one_cover"
            ),
        ]

    def __str__(self) -> str:
        return f"photo {self.pk} of {self.profile_id}"


class IdentityVerification(models.Model):
    """One submission of KTP + selfie + NIK. The latest one decides the profile's status."""

    profile = models.ForeignKey(CompanionProfile, on_delete=models.CASCADE, related_name="verifications")
    status = models.CharField(
        _("status"), max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.PENDING
    )
    ktp_image = models.ImageField(_("KTP photo"), upload_to=identity_upload_to, storage=private_storage)
    selfie_image = models.ImageField(_("selfie holding the KTP"), upload_to=identity_upload_to, storage=private_storage)
    nik = EncryptedTextField(_("NIK"))
    nik_last4 = models.CharField(_("NIK, last 4 digits"), max_length=4)
    nik_fingerprint = models.CharField(max_length=64, db_index=True, editable=False)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)

    class Meta:
        verbose_name = _("ID verification")
        verbose_name_plural = _("ID verifications")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile"],
                condition=models.Q(status="pending"),
                name="companions_verification_one_pending",
            ),
            # One NIK, one approved account (also when two submissions are reviewed at once).
            models.UniqueConstraint(
                fields=["nik_fingerprint"],
                condition=models.Q(status="approved"),
                name="companions_verification_nik_approved_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(rejection_reason=""),
                name="companions_verification_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"verification {self.pk} ({self.status})"

    @property
    def nik_masked(self) -> str:
        return "•" * 12 + self.nik_last4


class WeeklyHours(models.Model):
    """A range of hours on one weekday, in the companion's zone, as minutes: it starts
    `start_minute` after local midnight and lasts `length_minutes`. A range may run past midnight
    into the next day (Friday 20.00 for 6 hours ends Saturday 02.00). Integers keep the search
    filter in SQL exact and identical on PostgreSQL and SQLite."""

    profile = models.ForeignKey(CompanionProfile, on_delete=models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), validators=[MaxValueValidator(6)])  # Monday = 0
    start_minute = models.PositiveSmallIntegerField(_("starts (minutes after midnight)"))
    length_minutes = models.PositiveSmallIntegerField(_("length (minutes)"))

    class Meta:
        verbose_name = _("weekly hours")
        verbose_name_plural = _("weekly hours")
        ordering = ["weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="companions_hours_weekday_valid"),
            models.CheckConstraint(
                condition=models.Q(start_minute__lt=24 * 60)
                & models.Q(length_minutes__gte=60, length_minutes__lte=24 * 60),
                name="companions_hours_range_valid",
            ),
        ]
        # Search checks each candidate's hours in the page's order (selectors._free_at_filter): one probe
        # per candidate on (profile, weekday), with every column the filter reads, answered from the index.
        indexes = [
            models.Index(
                fields=["profile", "weekday", "start_minute", "length_minutes"], name="companions_hours_by_profile"
            )
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start_time:%H:%M}+{self.length_minutes}m"

    @property
    def start_time(self) -> time:
        return time(self.start_minute // 60, self.start_minute % 60)

    @property
    def end_time(self) -> time:
        end = (self.start_minute + self.length_minutes) % (24 * 60)
        return time(end // 60, end % 60)

    @property
    def crosses_midnight(self) -> bool:
        return self.start_minute + self.length_minutes > 24 * 60


class TimeOff(models.Model):
    profile = models.ForeignKey(CompanionProfile, on_delete=models.CASCADE, related_name="time_off")
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until (inclusive)"))
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="companions_time_off_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date} – {self.end_date}"


# --- Levels -------------------------------------------------------------------------------------------
# A companion's level sets the commission the platform keeps (frozen into each booking when it is created).
# Staff edit the thresholds as a LevelPolicy (one LevelRule per level) that takes effect on a date; the daily
# job (bookings/levels.py, rules in companions/levels.py) recomputes every level and records each change.


class LevelPolicy(models.Model):
    effective_from = models.DateField(
        _("takes effect on"),
        unique=True,
        help_text=_("The thresholds and commissions apply from this day (WIB). A policy in effect cannot be edited."),
    )
    note = models.CharField(_("why it changed"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("level policy")
        verbose_name_plural = _("level policies")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return str(self.effective_from)


class LevelRule(models.Model):
    """What a level needs (all of it) and the commission it pays. A threshold left empty is not checked;
    the lowest level (Baru) needs nothing."""

    policy = models.ForeignKey(LevelPolicy, on_delete=models.CASCADE, related_name="rules")
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    commission_basis_points = models.PositiveSmallIntegerField(
        _("commission (basis points)"),
        validators=[MaxValueValidator(10_000)],
        help_text=_("The share of the subtotal the platform keeps: 1500 = 15%."),
    )
    min_completed = models.PositiveIntegerField(_("completed bookings (365 days), at least"), default=0)
    min_customers = models.PositiveIntegerField(_("different customers (365 days), at least"), default=0)
    min_rating = models.DecimalField(
        _("rating, at least"),
        max_digits=2,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1.0")), MaxValueValidator(Decimal("5.0"))],
    )
    min_response_rate = models.PositiveSmallIntegerField(
        _("requests answered in time (%), at least"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    max_cancellation_rate = models.PositiveSmallIntegerField(
        _("cancelled after accepting (%), at most"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("level rule")
        verbose_name_plural = _("level rules")
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="companions_level_rule_once"),
            models.CheckConstraint(
                condition=models.Q(commission_basis_points__lte=10_000), name="companions_level_commission_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_level_display()


class LevelStanding(models.Model):
    """The level job's state for one companion: the figures it last saw (shown on "My level"), a pending
    demotion, and a staff override. Written only by companions/levels.py."""

    profile = models.OneToOneField(
        CompanionProfile, on_delete=models.CASCADE, primary_key=True, related_name="standing"
    )
    computed_on = models.DateField(_("figures last changed"), null=True, blank=True)
    completed = models.PositiveIntegerField(_("completed bookings (365 days)"), default=0)
    customers = models.PositiveIntegerField(_("different customers (365 days)"), default=0)
    cancellation_rate = models.PositiveSmallIntegerField(_("cancelled after accepting (%)"), null=True, blank=True)
    recent_subtotal = models.BigIntegerField(_("completed bookings' subtotal, last 90 days (Rp)"), default=0)
    # A demotion announced on warned_on, due on demotion_on (a month's first day at least 30 days later)
    # unless the figures recover first.
    warned_on = models.DateField(_("demotion announced"), null=True, blank=True)
    demotion_on = models.DateField(_("demotion due"), null=True, blank=True)
    demotion_to = models.CharField(_("demotion to"), max_length=10, choices=Level.choices, blank=True)
    # Set by staff: the level stays as they set it (the job records figures only) until they lift it.
    override_reason = models.CharField(_("override reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("level standing")
        verbose_name_plural = _("level standings")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(warned_on__isnull=True, demotion_on__isnull=True, demotion_to="")
                    | models.Q(warned_on__isnull=False, demotion_on__isnull=False) & ~models.Q(demotion_to="")
                ),
                name="companions_standing_demotion_whole",
            ),
        ]

    def __str__(self) -> str:
        return str(self.profile)

    @property
    def overridden(self) -> bool:
        return bool(self.override_reason)


class LevelChange(models.Model):
    """The level history: every change, announced demotion and override, with the figures at the time."""

    class Kind(models.TextChoices):
        PROMOTION = "promotion", _("promotion")
        WARNING = "warning", _("demotion announced")
        RECOVERED = "recovered", _("figures recovered, no demotion")
        DEMOTION = "demotion", _("demotion")
        OVERRIDE = "override", _("set by staff")
        OVERRIDE_LIFTED = "override_lifted", _("staff override lifted")

    profile = models.ForeignKey(CompanionProfile, on_delete=models.CASCADE, related_name="level_changes")
    kind = models.CharField(_("what happened"), max_length=16, choices=Kind.choices)
    from_level = models.CharField(_("from"), max_length=10, choices=Level.choices)
    to_level = models.CharField(_("to"), max_length=10, choices=Level.choices)
    reason = models.CharField(_("why"), max_length=300)
    figures = models.JSONField(_("figures at the time"), default=dict)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by (staff)"),
    )

    class Meta:
        verbose_name = _("level change")
        verbose_name_plural = _("level history")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["profile", "-created_at"], name="companions_level_history")]

    def __str__(self) -> str:
        return f"{self.profile}: {self.from_level} → {self.to_level}"


class IdentityFileView(models.Model):
    """Someone other than its owner (staff) was served a KTP or selfie image: who, which and when, one row
    per view (append-only). The owner's export lists them (issue 15)."""

    class Kind(models.TextChoices):
        KTP = "ktp", _("KTP photo")
        SELFIE = "selfie", _("selfie holding the KTP")

    verification = models.ForeignKey(
        IdentityVerification, on_delete=models.CASCADE, related_name="file_views", verbose_name=_("ID verification")
    )
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("viewed by"),
    )
    kind = models.CharField(_("file"), max_length=8, choices=Kind.choices)
    viewed_at = models.DateTimeField(_("viewed at"), default=timezone.now)

    class Meta:
        verbose_name = _("ID file view")
        verbose_name_plural = _("ID file views")
        ordering = ["-viewed_at", "-id"]
        indexes = [models.Index(fields=["verification", "viewed_at"], name="companions_idview_by_verif")]

    def __str__(self) -> str:
        return f"{self.kind} of verification {self.verification_id} viewed by {self.viewer_id}"
