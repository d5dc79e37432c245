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
