from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    """Assets are debit-normal; liabilities and revenue are credit-normal (DESIGN.md section 2)."""

    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    REVENUE = "revenue", _("Revenue")


class LedgerAccount(models.Model):
    """One account of the double-entry ledger. `key` names it: "provider_clearing", "bank",
    "platform_revenue", "refunds_payable", "escrow:booking:<id>", "companion_payable:<profile id>"."""

    key = models.CharField(_("key"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Journal(models.Model):
    """One money movement: its entries sum to zero. Append-only; a correction is a new journal.
    `reference` makes posting idempotent (the same event never posts twice)."""

    reference = models.CharField(_("reference"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=40)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("journal")
        verbose_name_plural = _("journals")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.reference


class Entry(models.Model):
    """A signed amount in whole Rupiah: positive is a debit, negative a credit."""

    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField(_("amount"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="payments_entry_not_zero")]
        indexes = [models.Index(fields=["account", "journal"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+d}"


class Payment(models.Model):
    """One payment attempt for a booking (one Midtrans order_id per attempt)."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PENDING = "pending", _("Waiting for payment")
        CHALLENGE = "challenge", _("Under review")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        CHARGEBACK = "chargeback", _("Charged back")

    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="payments")
    order_id = models.CharField(_("order id"), max_length=50, unique=True)
    amount = models.BigIntegerField(_("amount"))
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.CREATED)
    # The last Midtrans transaction_status applied ("" before any): the legal-moves table reads it.
    provider_status = models.CharField(_("provider status"), max_length=32, blank=True)
    provider_transaction_id = models.CharField(_("provider transaction id"), max_length=64, blank=True)
    payment_type = models.CharField(_("payment method"), max_length=32, blank=True)
    # Money received for a booking that could no longer be confirmed: refunded by the payments flow.
    needs_refund = models.BooleanField(_("needs a refund"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payments_payment_positive")]

    def __str__(self) -> str:
        return self.order_id


class PaymentNotification(models.Model):
    """Every notification as received (raw body) with what we made of it; nothing is ever dropped."""

    class Verdict(models.TextChoices):
        APPLIED = "applied", _("Applied")
        DUPLICATE = "duplicate", _("Duplicate")
        STALE = "stale", _("Out of order (ignored)")
        UNKNOWN_ORDER = "unknown_order", _("Unknown order")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amount mismatch")
        FORGED = "forged", _("Bad signature")
        MALFORMED = "malformed", _("Malformed")
        IGNORED = "ignored", _("Unknown status (ignored)")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications")
    order_id = models.CharField(_("order id"), max_length=64, blank=True, db_index=True)
    transaction_status = models.CharField(_("transaction status"), max_length=32, blank=True)
    raw_body = models.TextField(_("raw body"))
    verdict = models.CharField(_("verdict"), max_length=20, choices=Verdict.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.transaction_status} ({self.verdict})"
