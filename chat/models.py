"""A conversation per booking between its customer and companion: messages in order, each kept as it was
written (for staff and the sender) with the contact details found in it (masked for the recipient while the
booking was unpaid); reports with their frozen evidence; staff reads logged."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MESSAGE_MAX_LENGTH = 2000


class Conversation(models.Model):
    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.CASCADE, related_name="conversation", verbose_name=_("booking")
    )
    # The two parties, kept with the row so the messages page lists a person's conversations by index.
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    companion = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    # The newest message each side has seen (its id; 0: none): unread = the other's messages after it.
    customer_read_upto = models.BigIntegerField(default=0)
    companion_read_upto = models.BigIntegerField(default=0)
    # When each side was last told by email or WhatsApp about unread messages here (at most once per 30 min).
    customer_notified_at = models.DateTimeField(null=True, blank=True)
    companion_notified_at = models.DateTimeField(null=True, blank=True)
    # Set when a message asked to pay outside Kompanion or solicited sex (chat.masking.find_concerns).
    flagged_at = models.DateTimeField(_("flagged for staff"), null=True, blank=True)
    flag_reasons = models.JSONField(_("why"), default=list, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["customer", "-last_message_at"], name="chat_of_customer"),
            models.Index(fields=["companion", "-last_message_at"], name="chat_of_companion"),
            models.Index(fields=["flagged_at"], condition=models.Q(flagged_at__isnull=False), name="chat_flagged"),
            # The unread-notice sweep (every minute) looks only at conversations active in the last days.
            models.Index(fields=["last_message_at"], name="chat_recent"),
        ]

    def __str__(self) -> str:
        return str(self.booking_id)

    # Which side a party is on, said once: the read mark and the other party of `user_id`.
    def read_field(self, user_id: int) -> str:
        return "customer_read_upto" if user_id == self.customer_id else "companion_read_upto"

    def read_upto(self, user_id: int) -> int:
        return getattr(self, self.read_field(user_id))

    def other_id(self, user_id: int) -> int:
        return self.companion_id if user_id == self.customer_id else self.customer_id

    def other(self, user_id: int):
        """The other party (the user row; select_related("customer", "companion") to save the query)."""
        return self.companion if user_id == self.customer_id else self.customer


class Message(models.Model):
    # Both foreign keys are served by the composite indexes below (no single-column index of their own).
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    text = models.TextField(_("text as written"), max_length=MESSAGE_MAX_LENGTH)
    # Contact details found in the text, [start, end, kind], hidden from the recipient when `masked`.
    contacts = models.JSONField(default=list, blank=True)
    masked = models.BooleanField(_("contacts hidden from the recipient"), default=False)
    concerns = models.JSONField(_("concerns"), default=list, blank=True)
    # From the sending form: a double click or a retried POST stores the message once.
    client_key = models.UUIDField(default=uuid.uuid4)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "sender", "client_key"], name="chat_message_once"),
            models.CheckConstraint(condition=models.Q(text__regex=r"\S"), name="chat_message_not_blank"),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="chat_messages_in_order"),
            # The send limit counts the sender's last minute, however long their history.
            models.Index(fields=["sender", "created_at"], name="chat_messages_by_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.pk}"


class ReportCategory(models.TextChoices):
    CONTACT = "contact", _("Asked to talk or pay outside Kompanion")
    SEXUAL = "sexual", _("Sexual or inappropriate request")
    HARASSMENT = "harassment", _("Harassment, threats or insults")
    SCAM = "scam", _("Scam or fraud")
    SAFETY = "safety", _("I feel unsafe")
    OTHER = "other", _("Something else")


class Report(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        IN_REVIEW = "in_review", _("in review")
        CLOSED = "closed", _("closed")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reported = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    category = models.CharField(_("category"), max_length=16, choices=ReportCategory.choices)
    details = models.TextField(_("details"), max_length=2000, blank=True)
    # The messages as they were when reported (id, sender, sent, text as written): kept whatever happens next.
    evidence = models.JSONField(_("evidence"), default=list)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("reported"), default=timezone.now)

    class Meta:
        verbose_name = _("chat report")
        verbose_name_plural = _("chat reports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="chat_reports_queue")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.conversation_id})"


class ReportAction(models.Model):
    """What staff did about a report: recorded, never edited."""

    class Kind(models.TextChoices):
        REVIEW = "review", _("taken into review")
        WARN = "warn", _("warned")
        SUSPEND = "suspend", _("suspended")
        BAN = "ban", _("banned")
        CLOSE = "close", _("closed without action")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("action"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=500)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("report action")
        verbose_name_plural = _("report actions")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.report_id})"


class StaffRead(models.Model):
    """Staff opened a conversation in the admin: who and when (the only way staff read one)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="staff_reads")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("staff read")
        verbose_name_plural = _("staff reads")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.staff_id} read {self.conversation_id}"
