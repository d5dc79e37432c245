from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField
from payments.banks import BANKS, mask_account_number

PAYOUT_MINIMUM = 50_000


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
    # Set for per-booking escrow and per-companion payable accounts, so balances can be summed per
    # companion with joins instead of parsing keys.
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_accounts"
    )
    profile = models.ForeignKey(
        "companions.CompanionProfile", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_accounts"
    )
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

    # What the money is for: a booking, or a sale of a paid product (issue 17); exactly one of the two.
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    purchase = models.ForeignKey(
        "products.Purchase", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
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
    # The checkout: where the customer pays, until when (aligned with the booking's payment deadline).
    redirect_url = models.URLField(_("checkout address"), max_length=500, blank=True)
    expires_at = models.DateTimeField(_("checkout expires"), null=True, blank=True)
    # The provider's answers, raw (checkout creation, the last status check), for support and audits.
    checkout_response = models.JSONField(_("checkout answer"), default=dict, blank=True)
    last_checked_at = models.DateTimeField(_("last status check"), null=True, blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=32, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payments_payment_positive"),
            models.CheckConstraint(
                condition=models.Q(booking__isnull=False, purchase__isnull=True)
                | models.Q(booking__isnull=True, purchase__isnull=False),
                name="payments_payment_for_one_thing",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="payments_payment_status")]

    def __str__(self) -> str:
        return self.order_id

    @property
    def payer(self):
        """Who paid: the booking's customer, or the product's buyer."""
        return self.booking.customer if self.booking_id else self.purchase.buyer

    @property
    def subject_reference(self) -> str:
        """The booking's or the purchase's reference (receipts, memos, notifications)."""
        return self.booking.reference if self.booking_id else self.purchase.reference

    @property
    def is_open(self) -> bool:
        """Still payable: checkout made (or being made) and no final answer yet."""
        return self.status in (self.Status.CREATED, self.Status.PENDING, self.Status.CHALLENGE)


class PaymentNotification(models.Model):
    """Every notification as received (raw body) with what we made of it; nothing is ever dropped."""

    # The raw body may describe the payer (core/personal_data.py; purged by payments/personal_data.py).
    PERSONAL_FIELDS = ("raw_body",)

    class Verdict(models.TextChoices):
        APPLIED = "applied", _("Applied")
        DUPLICATE = "duplicate", _("Duplicate")
        STALE = "stale", _("Out of order (ignored)")
        UNKNOWN_ORDER = "unknown_order", _("Unknown order")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amount mismatch")
        FORGED = "forged", _("Bad signature")
        MALFORMED = "malformed", _("Malformed")
        IGNORED = "ignored", _("Unknown status (ignored)")
        UNEXPECTED = "unexpected", _("Refund or chargeback we did not make (needs review)")

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("Notification")
        STATUS_API = "status_api", _("Status check")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications")
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.WEBHOOK)
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


account_number_validator = RegexValidator(
    r"^[0-9]{6,20}$", _("Enter the account number as 6 to 20 digits, without spaces or dashes.")
)


class BankDetails(models.Model):
    """A bank account to send money to (Indonesian banks only). The number is encrypted at rest."""

    bank = models.CharField(_("bank"), max_length=16, choices=BANKS)
    account_number = EncryptedTextField(_("account number"), validators=[account_number_validator])
    holder_name = models.CharField(_("account holder name"), max_length=100)

    class Meta:
        abstract = True

    @property
    def masked_account_number(self) -> str:
        return mask_account_number(self.account_number or "")


class Refund(BankDetails):
    """Money going back to a customer: through the gateway (cards, e-wallets, QRIS) with a refund key
    that makes a retry the same refund, or by a manual bank transfer for methods the gateway cannot
    refund (virtual accounts, convenience stores), for which the customer gives their bank details."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being processed")
        SUCCEEDED = "succeeded", _("Refunded")
        NEEDS_DETAILS = "needs_details", _("Waiting for your bank details")
        MANUAL_QUEUED = "manual_queued", _("Bank transfer queued")
        MANUAL_DONE = "manual_done", _("Refunded by bank transfer")
        FAILED = "failed", _("Failed (our team is on it)")

    class Method(models.TextChoices):
        GATEWAY = "gateway", _("To the original payment method")
        MANUAL = "manual", _("Bank transfer")

    # A booking's refund, or (booking empty) a paid product's: the payment says which.
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(_("amount"))
    # Deterministic (derived from the payment and the reason), so a retried call is the same refund.
    refund_key = models.CharField(_("refund key"), max_length=50, unique=True)
    reason = models.CharField(_("reason"), max_length=40)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    provider_response = models.JSONField(_("provider answer"), default=dict, blank=True)
    transfer_reference = models.CharField(_("transfer reference"), max_length=64, blank=True)
    # Bank details are asked of the customer only for manual refunds.
    bank = models.CharField(_("bank"), max_length=16, choices=BANKS, blank=True)
    account_number = EncryptedTextField(_("account number"), blank=True, validators=[account_number_validator])
    holder_name = models.CharField(_("account holder name"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("done by")
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payments_refund_positive")]

    def __str__(self) -> str:
        return self.refund_key

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.MANUAL_DONE)


class BankAccount(BankDetails):
    """Where a companion's payouts go (one per companion; changing it affects only later payouts)."""

    profile = models.OneToOneField("companions.CompanionProfile", on_delete=models.CASCADE, related_name="bank_account")
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")

    def __str__(self) -> str:
        return f"{self.get_bank_display()} {self.masked_account_number}"


class Payout(BankDetails):
    """A companion's request to be paid what they are owed. The bank details are copied at request
    time, so the transfer goes where the companion asked even if they edit their account later."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved, transfer on its way")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    OPEN_STATUSES = (Status.REQUESTED, Status.APPROVED)

    profile = models.ForeignKey("companions.CompanionProfile", on_delete=models.PROTECT, related_name="payouts")
    amount = models.BigIntegerField(_("amount"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    transfer_reference = models.CharField(_("transfer reference"), max_length=64, blank=True)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=PAYOUT_MINIMUM), name="payments_payout_minimum"),
            # One open request at a time per companion, enforced where races cannot reach.
            models.UniqueConstraint(
                fields=["profile"],
                condition=models.Q(status__in=["requested", "approved"]),
                name="payments_one_open_payout",
            ),
        ]

    def __str__(self) -> str:
        return f"payout {self.pk} ({self.amount})"


class SimulatorTransaction(models.Model):
    """The dev payment simulator's own records: it plays Midtrans, so this is *its* database (what
    the status API answers from), not ours. Never used when PAYMENT_GATEWAY is "midtrans"."""

    order_id = models.CharField(max_length=50, unique=True)
    gross_amount = models.BigIntegerField()
    transaction_status = models.CharField(max_length=32, blank=True)
    payment_type = models.CharField(max_length=32, blank=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    finish_url = models.URLField(max_length=500, blank=True)
    expires_at = models.DateTimeField()
    refund_keys = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("simulated transaction")
        verbose_name_plural = _("simulated transactions")

    def __str__(self) -> str:
        return self.order_id
