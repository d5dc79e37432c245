"""Safety at meetings and between people (issue 15).

- A `Meeting` row per confirmed booking: the customer's 4-digit check-in code (encrypted at rest, never in
  a notification or a URL), the "met" and "ended" marks, the welfare-check stages and the SOS.
- `TrustedContact`: the one person a customer or companion wants told (name and WhatsApp number).
- `ShareLink`: a booking's signed link for that contact (only its keyed hash is stored).
- `SafetyEvent`: every safety step of a booking, shown on its timeline (append-only).
- `PersonReport` and `ModerationAction`: a person reported from a profile or a booking, the staff's
  decisions (warn, suspend, ban, reinstate, dismiss), each with who and why (append-only).
- `SafetyAlert`: the staff safety queue (SOS first, then welfare escalations, then reports).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.phones import E164_PATTERN
from core.crypto import EncryptedTextField


class Meeting(models.Model):
    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.CASCADE, related_name="meeting", verbose_name=_("booking")
    )
    code = EncryptedTextField(_("check-in code"))
    code_attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    customer_ended_at = models.DateTimeField(_("ended by the customer"), null=True, blank=True)
    companion_ended_at = models.DateTimeField(_("ended by the companion"), null=True, blank=True)
    # The welfare check: "are you OK?" at end + 15 min, the trusted contacts and staff at end + 30 min.
    asked_at = models.DateTimeField(_("asked if all is well"), null=True, blank=True)
    customer_fine_at = models.DateTimeField(_("customer said all is well"), null=True, blank=True)
    companion_fine_at = models.DateTimeField(_("companion said all is well"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    sos_at = models.DateTimeField(_("SOS"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [
            # The welfare sweep: meetings not ended and not yet escalated.
            models.Index(
                fields=["escalated_at", "asked_at"],
                name="safety_meeting_open",
                condition=models.Q(escalated_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"meeting of booking {self.booking_id}"

    @property
    def ended(self) -> bool:
        return self.customer_ended_at is not None or self.companion_ended_at is not None


class TrustedContact(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trusted_contact", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=80)
    phone = models.CharField(_("WhatsApp number"), max_length=16)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("trusted contact")
        verbose_name_plural = _("trusted contacts")
        constraints = [
            models.CheckConstraint(condition=models.Q(phone__regex=E164_PATTERN), name="safety_contact_phone_e164")
        ]

    def __str__(self) -> str:
        return f"trusted contact of {self.user_id}"


class ShareLink(models.Model):
    """A booking's link for a trusted contact: the token is shown once (in the WhatsApp message or to the
    person who shares it); only its keyed hash is kept. Valid until the meeting ends + 12 hours, or until
    revoked (a new link revokes the old one)."""

    booking = models.ForeignKey("bookings.Booking", on_delete=models.CASCADE, related_name="share_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")

    def __str__(self) -> str:
        return f"share link of booking {self.booking_id}"


class SafetyEventKind(models.TextChoices):
    CHECKED_IN = "checked_in", _("Met (check-in code entered)")
    WRONG_CODE = "wrong_code", _("Wrong check-in code")
    ENDED = "ended", _("Meeting ended, all good")
    SHARED = "shared", _("Shared with a trusted contact")
    ASKED = "asked", _("Asked if all is well")
    FINE = "fine", _("Said all is well")
    CONTACT_TOLD = "contact_told", _("Trusted contact told")
    ESCALATED = "escalated", _("Sent to the safety team")
    SOS = "sos", _("SOS")
    REPORTED = "reported", _("Person reported")


class SafetyEvent(models.Model):
    booking = models.ForeignKey("bookings.Booking", on_delete=models.CASCADE, related_name="safety_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("what"), max_length=16, choices=SafetyEventKind.choices)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("safety event")
        verbose_name_plural = _("safety events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["booking", "created_at"], name="safety_event_booking")]

    def __str__(self) -> str:
        return f"{self.kind} on booking {self.booking_id}"


class ReportCategory(models.TextChoices):
    SAFETY = "safety", _("Safety")
    HARASSMENT = "harassment", _("Harassment")
    SEXUAL = "sexual", _("Sexual solicitation")
    NO_SHOW = "no_show", _("No-show")
    FRAUD = "fraud", _("Fraud")
    OTHER = "other", _("Other")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACTIONED = "actioned", _("Action taken")
    DISMISSED = "dismissed", _("Closed without action")


class PersonReport(models.Model):
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="person_reports_made",
        verbose_name=_("reporter"),
    )
    reported = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="person_reports_received",
        verbose_name=_("reported person"),
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booking"),
    )
    category = models.CharField(_("category"), max_length=16, choices=ReportCategory.choices)
    description = models.TextField(_("what happened"), max_length=2000)
    # The reporter asked to cancel the booking for their safety: never counted against their reliability.
    cancelled_booking = models.BooleanField(_("booking cancelled for safety"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(_("reported at"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report about a person")
        verbose_name_plural = _("reports about people")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reporter=models.F("reported")), name="safety_report_not_self"),
            models.CheckConstraint(
                condition=models.Q(category__in=ReportCategory.values), name="safety_report_category_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="safety_report_queue"),
            models.Index(fields=["reporter", "created_at"], name="safety_report_by_reporter"),
        ]

    def __str__(self) -> str:
        return f"report {self.pk} about {self.reported_id}"


class ModerationKind(models.TextChoices):
    WARN = "warn", _("Warn")
    SUSPEND = "suspend", _("Suspend")
    BAN = "ban", _("Ban")
    REINSTATE = "reinstate", _("Reinstate")
    DISMISS = "dismiss", _("Close without action")


class ModerationAction(models.Model):
    """A staff decision about a person, with who and why (append-only)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_actions", verbose_name=_("person")
    )
    report = models.ForeignKey(
        PersonReport, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions", verbose_name=_("report")
    )
    kind = models.CharField(_("action"), max_length=16, choices=ModerationKind.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff")
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.user_id}"


class AlertKind(models.TextChoices):
    SOS = "sos", _("SOS")
    WELFARE = "welfare", _("No answer to the welfare check")
    REPORT = "report", _("Report about a person")


class SafetyAlert(models.Model):
    """An item of the staff safety queue. SOS sorts first (priority 0), then welfare (1), then reports (2)."""

    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), default=2)
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booking"),
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    report = models.OneToOneField(
        PersonReport, on_delete=models.CASCADE, null=True, blank=True, related_name="alert", verbose_name=_("report")
    )
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("staff note"), blank=True)

    class Meta:
        verbose_name = _("safety alert")
        verbose_name_plural = _("safety queue")
        ordering = ["handled_at", "priority", "created_at"]
        constraints = [
            # One open alert of a kind per booking: a second SOS tap or sweep adds nothing.
            models.UniqueConstraint(
                fields=["booking", "kind"],
                condition=models.Q(handled_at__isnull=True, booking__isnull=False) & ~models.Q(kind="report"),
                name="safety_alert_one_open_per_booking",
            )
        ]
        indexes = [
            models.Index(
                fields=["priority", "created_at"], name="safety_alert_open", condition=models.Q(handled_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} alert {self.pk}"
