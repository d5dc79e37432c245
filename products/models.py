"""Paid products (issue 17): what staff sell (Package) and each sale (Purchase).

- Sorotan: a companion's promotion in search for 7 or 30 days.
- Kompanion Plus: a customer's pass for 30 or 90 days (a lower service fee, free cancellation up to 12 hours
  before, early access to newly verified companions, a badge).

A purchase is paid through Midtrans (its own payments.Payment, order ids `PRD-…`) or, for Sorotan, from the
companion's available earnings (a ledger transfer). Once paid it holds a period [starts_at, ends_at): a new
purchase of the same product by the same person starts where the last one ends, so two never run at once.
The price is booked as deferred revenue and recognised day by day over the period (payments/products.py);
`recognised` says how much so far, `refunded` what staff gave back of the unused part."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Product(models.TextChoices):
    SOROTAN = "sorotan", _("Sorotan (promotion in search)")
    PLUS = "plus", _("Kompanion Plus")


class Package(models.Model):
    product = models.CharField(_("product"), max_length=8, choices=Product.choices)
    name = models.CharField(_("name"), max_length=80)
    days = models.PositiveSmallIntegerField(_("days"))
    price = models.PositiveIntegerField(_("price (Rupiah)"))
    active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ("product", "days", "pk")
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=366), name="products_package_days"),
            models.CheckConstraint(condition=Q(price__gte=1_000), name="products_package_price"),
        ]

    def __str__(self) -> str:
        return self.name


class Purchase(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Not paid")
        REFUNDED = "refunded", _("Refunded (unused part)")

    class Method(models.TextChoices):
        GATEWAY = "gateway", _("Online payment")
        EARNINGS = "earnings", _("From my earnings")

    reference = models.CharField(_("reference"), max_length=16, unique=True)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("buyer")
    )
    profile = models.ForeignKey(
        "companions.CompanionProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchases",
        verbose_name=_("companion"),
    )
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("package"))
    product = models.CharField(_("product"), max_length=8, choices=Product.choices)
    days = models.PositiveSmallIntegerField(_("days"))
    price = models.PositiveIntegerField(_("price (Rupiah)"))
    method = models.CharField(_("paid with"), max_length=8, choices=Method.choices)
    status = models.CharField(_("status"), max_length=9, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    recognised = models.PositiveIntegerField(_("recognised as revenue (Rupiah)"), default=0)
    refunded = models.PositiveIntegerField(_("refunded (Rupiah)"), default=0)
    reminded_at = models.DateTimeField(_("end reminder sent at"), null=True, blank=True)
    # Sorotan: the companion paused their profile at this moment; on resume the period moves on by the pause.
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=["product", "status", "ends_at"], name="products_purchase_active")]
        constraints = [
            # One open checkout per person and product: a double click or a second tab finds the same one.
            models.UniqueConstraint(
                fields=["buyer", "product"], condition=Q(status="open"), name="products_purchase_one_open"
            ),
            models.CheckConstraint(
                condition=Q(product="plus", profile__isnull=True) | Q(product="sorotan", profile__isnull=False),
                name="products_purchase_profile",
            ),
            models.CheckConstraint(
                condition=Q(status__in=("open", "cancelled")) | Q(starts_at__isnull=False, ends_at__isnull=False),
                name="products_purchase_period",
            ),
            models.CheckConstraint(
                condition=Q(recognised__lte=models.F("price") - models.F("refunded")),
                name="products_purchase_money_within_price",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def payable_online(self) -> bool:
        """Still waiting for an online payment (the purchase page's Pay button and the checkout ask this)."""
        return self.status == self.Status.OPEN and self.method == self.Method.GATEWAY


class MemberSaving(models.Model):
    """The Kompanion Plus part of a booking's discount (half the service fee, platform-paid), recorded when the
    booking is requested: the booking's `discount` is this amount plus the promotions part (promotions.Redemption),
    if any. It names no one itself (the booking does). What Plus saved a member so far is the sum over their
    paid, not fully refunded bookings (products/plus.py)."""

    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.CASCADE, related_name="member_saving", verbose_name=_("booking")
    )
    amount = models.PositiveIntegerField(_("Plus discount (Rupiah)"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("Plus saving")
        verbose_name_plural = _("Plus savings")
        ordering = ("-created_at", "-pk")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="products_membersaving_positive")]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.amount}"


class DailyStat(models.Model):
    """A companion's search impressions and profile views on one day (Jakarta's), flushed from the cache's
    counters (companions/view_counts.py, core/counters.py) every 5 minutes by adding to the row."""

    profile = models.ForeignKey(
        "companions.CompanionProfile", on_delete=models.CASCADE, related_name="daily_stats", verbose_name=_("companion")
    )
    day = models.DateField(_("day"))
    impressions = models.PositiveIntegerField(_("search impressions"), default=0)
    profile_views = models.PositiveIntegerField(_("profile views"), default=0)

    class Meta:
        verbose_name = _("daily statistic")
        verbose_name_plural = _("daily statistics")
        ordering = ("-day", "profile")
        constraints = [models.UniqueConstraint(fields=["profile", "day"], name="products_dailystat_one_per_day")]
        # The analytics' nightly profile-views rollup reads one day of every companion (analytics/traffic.py).
        indexes = [models.Index(fields=["day"], name="products_dailystat_day")]

    def __str__(self) -> str:
        return f"{self.profile_id} {self.day}"
