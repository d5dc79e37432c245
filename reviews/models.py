"""Reviews after a completed booking, both ways: the customer's of the companion (public once published)
and the companion's of the customer (never public: shown only to companions that customer asks to book).

Double-blind: a review is published (`published_at`) when both sides have written theirs, or when the
window closes (`window_closes_at`, 14 days after completion), whichever comes first; until then only its
author sees it. Who may write and read what is decided in reviews/rules.py, nowhere else."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from companions.models import CompanionProfile

TEXT_MAX_LENGTH = 1000
STAR_FIELDS = ("overall", "punctuality", "communication", "as_described", "respected_boundaries")


class Direction(models.TextChoices):
    OF_COMPANION = "of_companion", _("Customer about the companion")
    OF_CUSTOMER = "of_customer", _("Companion about the customer")


class Review(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("booking"))
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_written", verbose_name=_("author")
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_received", verbose_name=_("about")
    )
    # The booking's companion, whichever way the review goes: the profile's list and rating read it.
    companion = models.ForeignKey(
        CompanionProfile, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("companion")
    )
    overall = models.PositiveSmallIntegerField(_("overall"))
    punctuality = models.PositiveSmallIntegerField(_("punctuality"))
    communication = models.PositiveSmallIntegerField(_("communication"))
    as_described = models.PositiveSmallIntegerField(_("as described"))
    respected_boundaries = models.PositiveSmallIntegerField(_("respected my boundaries"))
    text = models.TextField(_("review"), max_length=TEXT_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    window_closes_at = models.DateTimeField(_("published at the latest"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # The companion's one public answer to a customer's review of them.
    reply = models.TextField(_("companion's reply"), max_length=TEXT_MAX_LENGTH, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_reason = models.TextField(_("why it was hidden"), max_length=500, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hidden by"),
    )

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            # One review each way per booking, whatever races (a double click, two tabs, a replayed POST).
            models.UniqueConstraint(fields=["booking", "direction"], name="reviews_one_each_way"),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__gte": 1, f"{name}__lte": 5}), name=f"reviews_{name}_1_to_5"
                )
                for name in STAR_FIELDS
            ],
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), TEXT_MAX_LENGTH), name="reviews_text_length"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("reply"), TEXT_MAX_LENGTH), name="reviews_reply_length"
            ),
            models.CheckConstraint(
                condition=models.Q(replied_at__isnull=True, reply="")
                | models.Q(replied_at__isnull=False, direction="of_companion") & ~models.Q(reply=""),
                name="reviews_reply_only_to_a_review_of_the_companion",
            ),
            models.CheckConstraint(
                condition=models.Q(hidden_at__isnull=True) | ~models.Q(hidden_reason=""),
                name="reviews_hidden_with_reason",
            ),
        ]
        indexes = [
            # The analytics count a day's published reviews (analytics/quality.py).
            models.Index(fields=["published_at"], name="reviews_published_at"),
            # The profile's newest reviews (selectors.public_reviews), hidden ones included (shown as
            # removed): in the index's order, so a companion with hundreds of reviews reads only ten.
            models.Index(
                fields=["companion", "-published_at", "-id"],
                condition=models.Q(direction="of_companion", published_at__isnull=False),
                name="reviews_shown_by_companion",
            ),
            models.Index(
                fields=["window_closes_at"], condition=models.Q(published_at__isnull=True), name="reviews_unpublished"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booking.reference} {self.direction} {self.overall}★"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class SafetyReport(models.Model):
    """A confidential report to staff that came with a review of 2 stars or less: the stars stay on the
    review, these details go to staff only (never shown on any page but the admin)."""

    review = models.OneToOneField(
        Review, on_delete=models.PROTECT, related_name="safety_report", verbose_name=_("review")
    )
    details = models.TextField(_("what happened"), max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(_("reported at"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    staff_note = models.TextField(_("staff note"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("safety report")
        verbose_name_plural = _("safety reports")
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("details"), TEXT_MAX_LENGTH) & ~models.Q(details=""),
                name="reviews_safety_report_details",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.review.booking.reference} ({self.created_at:%Y-%m-%d})"
