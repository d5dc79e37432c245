"""Promotions: codes staff create (Promotion) and what each booking took of one (Redemption).

A promotion's counters (`uses_reserved`, `budget_reserved`) change only through atomic conditional
UPDATEs in promotions/services.py, never read-then-write, so use and budget limits are exact under
concurrency. The welcome discount has no Promotion row: its redemptions have `promotion = None` and
`source = welcome`, so its cost is reported the same way."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Promotion(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", _("Percentage")
        FIXED = "fixed", _("Fixed amount")

    code = models.CharField(_("code"), max_length=32, help_text=_("Case-insensitive; spaces around it are ignored."))
    name = models.CharField(_("internal name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.PERCENT)
    basis_points = models.PositiveIntegerField(
        _("percentage (basis points)"), default=0, help_text=_("1500 = 15%. Only for a percentage.")
    )
    amount = models.PositiveIntegerField(
        _("amount (Rupiah)"), default=0, help_text=_("The fixed discount, or the cap of a percentage (0 = no cap).")
    )
    minimum_subtotal = models.PositiveIntegerField(_("minimum subtotal (Rupiah)"), default=0)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    cities = models.ManyToManyField("companions.City", blank=True, verbose_name=_("cities (empty = all)"))
    activities = models.ManyToManyField("companions.Activity", blank=True, verbose_name=_("activities (empty = all)"))
    first_booking_only = models.BooleanField(_("first booking only"), default=False)
    new_customer_days = models.PositiveIntegerField(
        _("only customers who signed up within (days)"), null=True, blank=True
    )
    uses_per_customer = models.PositiveIntegerField(_("uses per customer"), default=1)
    total_uses = models.PositiveIntegerField(_("total uses"), null=True, blank=True)
    budget = models.PositiveBigIntegerField(_("total budget (Rupiah)"), null=True, blank=True)
    uses_reserved = models.PositiveIntegerField(_("uses reserved or consumed"), default=0, editable=False)
    budget_reserved = models.PositiveBigIntegerField(_("budget reserved or consumed"), default=0, editable=False)
    paused = models.BooleanField(_("paused"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(Lower("code"), name="promotions_code_unique_ci"),
            models.CheckConstraint(condition=~Q(code=""), name="promotions_code_not_empty"),
            models.CheckConstraint(condition=Q(basis_points__lte=10_000), name="promotions_basis_points_range"),
            models.CheckConstraint(
                condition=Q(kind="fixed", amount__gt=0) | Q(kind="percent", basis_points__gt=0),
                name="promotions_kind_has_value",
            ),
            models.CheckConstraint(condition=Q(uses_per_customer__gte=1), name="promotions_uses_per_customer_min"),
            models.CheckConstraint(
                condition=Q(total_uses__isnull=True) | Q(uses_reserved__lte=models.F("total_uses")),
                name="promotions_uses_within_total",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget_reserved__lte=models.F("budget")),
                name="promotions_budget_within_total",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="promotions_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        self.code = (self.code or "").strip()
        super().save(*args, **kwargs)


class Redemption(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        CONSUMED = "consumed", _("Consumed")
        RELEASED = "released", _("Released")

    class Source(models.TextChoices):
        CODE = "code", _("Promo code")
        WELCOME = "welcome", _("Welcome discount")

    promotion = models.ForeignKey(
        Promotion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redemptions",
        verbose_name=_("promotion"),
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.CASCADE, related_name="redemption", verbose_name=_("booking")
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="redemptions", verbose_name=_("customer")
    )
    discount = models.PositiveIntegerField(_("discount (Rupiah)"))
    status = models.CharField(_("status"), max_length=9, choices=Status.choices, default=Status.RESERVED)
    reserved_at = models.DateTimeField(_("reserved at"))
    consumed_at = models.DateTimeField(_("consumed at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ("-reserved_at", "-pk")
        indexes = [models.Index(fields=["promotion", "customer", "status"], name="promotions_redemption_use")]
        constraints = [
            models.CheckConstraint(condition=Q(discount__gt=0), name="promotions_redemption_discount_positive"),
            models.CheckConstraint(
                condition=Q(source="welcome", promotion__isnull=True) | Q(source="code", promotion__isnull=False),
                name="promotions_redemption_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.discount} ({self.status})"
