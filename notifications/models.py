from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """Something a user should hear about, recorded in the same transaction as the change that causes
    it (outbox pattern). The row itself is the in-app notification (the bell reads it); each outside
    channel (WhatsApp, email) gets a Delivery that a Celery task sends after commit."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(_("event"), max_length=64)
    context = models.JSONField(_("details"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, default="id")
    # Set for messages that must exist once only (a reminder per booking and kind): the database
    # refuses the second, however often or late the scan runs.
    dedupe_key = models.CharField(_("once-only key"), max_length=120, unique=True, null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notifications_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient_id}"


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    EMAIL = "email", _("Email")


class Delivery(models.Model):
    """One message on one outside channel: the outbox row a task sends (at most once)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")
        UNDELIVERED = "undelivered", _("Not delivered")

    # Twilio's statuses in the order they happen; a callback never moves a row backwards.
    PROGRESS = {"queued": 1, "sending": 1, "sent": 2, "delivered": 3, "read": 4}

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=8, default="id")
    template_key = models.CharField(_("template"), max_length=64)
    variables = models.JSONField(_("template variables"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    # One-time codes: the text is blanked once sent, so no code stays readable in the database.
    sensitive = models.BooleanField(_("contains a code"), default=False)
    # To someone who is not a user (a trusted contact, issue 15) on the recipient's behalf: the recipient's
    # own WhatsApp consent is about their number, not this one; the text holds a share link, so it is also
    # `sensitive` (blanked once sent).
    on_behalf = models.BooleanField(_("to the user's trusted contact"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_id = models.CharField(_("provider message id"), max_length=64, unique=True, null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=16, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sending_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="notifications_delivery_status"),
            models.Index(fields=["channel", "to", "sending_started_at"], name="notifications_delivery_to"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.template_key} → {self.to}"


class OutboxMessage(models.Model):
    """The dev WhatsApp backend's "phone": every message that would have gone to Twilio (make run)."""

    # The number and text of a person (core/personal_data.py; purged by notifications/personal_data.py).
    PERSONAL_FIELDS = ("to", "body")

    to = models.CharField(max_length=32)
    template_key = models.CharField(max_length=64)
    content_sid = models.CharField(max_length=64, blank=True)
    body = models.TextField()
    sid = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.to}: {self.body[:40]}"


class InboundMessage(models.Model):
    """What users write to our WhatsApp number (signature-checked): opens the 24 h free-text window
    and carries STOP/BERHENTI and START/MULAI."""

    PERSONAL_FIELDS = ("sender", "body")

    sender = models.CharField(max_length=32, db_index=True)
    body = models.TextField(blank=True)
    provider_id = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("inbound WhatsApp message")
        verbose_name_plural = _("inbound WhatsApp messages")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.sender}: {self.body[:40]}"
