"""Promotions: codes staff create (Promotion) and what each booking took of one (Redemption).

A promotion's counters (`uses_reserved`, `budget_reserved`) change only through atomic conditional
UPDATEs in promotions/services.py, never read-then-write, so use and budget limits are exact under
concurrency. The welcome discount has no Promotion row: its redemptions have `promotion = None` and
`source = welcome`, so its cost is reported the same way; a referral voucher's have `source = voucher`.

The referral programme (promotions/referrals.py): ReferralCode (a person's link), Referral (a friend who
signed up through it, with its state and fraud flags), the rewards (Voucher for a customer, CommissionCut for
a companion) and StaffDecision (pausing a code, withholding or releasing a reward, with the reason)."""

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
        VOUCHER = "voucher", _("Referral voucher")

    promotion = models.ForeignKey(
        Promotion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redemptions",
        verbose_name=_("promotion"),
    )
    voucher = models.ForeignKey(
        "Voucher",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redemptions",
        verbose_name=_("voucher"),
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
                condition=Q(source="welcome", promotion__isnull=True, voucher__isnull=True)
                | Q(source="code", promotion__isnull=False, voucher__isnull=True)
                | Q(source="voucher", promotion__isnull=True, voucher__isnull=False),
                name="promotions_redemption_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.discount} ({self.status})"


# --- The referral programme ----------------------------------------------------------------------------


class ReferralCode(models.Model):
    """A person's invitation code (and link /r/<code>/), made the first time they open "Invite friends"."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_code", verbose_name=_("user")
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("invitation code")
        verbose_name_plural = _("invitation codes")

    def __str__(self) -> str:
        return self.code


class Referral(models.Model):
    """One friend who signed up through someone's invitation. The referrer's reward depends on the referrer:
    a customer earns a voucher, a companion a commission cut. It is due when the friend's first booking
    completes (its dispute window closed); promotions/referrals.py holds the rules and the fraud checks."""

    class Status(models.TextChoices):
        PENDING = "pending", _("In progress")
        HELD = "held", _("Held for review")
        REWARDED = "rewarded", _("Rewarded")
        REJECTED = "rejected", _("Not eligible")
        WITHHELD = "withheld", _("Withheld by our team")
        REVERSED = "reversed", _("Reversed")
        CAPPED = "capped", _("Yearly limit reached")

    class Flag(models.TextChoices):
        SAME_PHONE = "same_phone", _("Same phone number as the referrer")
        SAME_BANK = "same_bank", _("Same bank account number as the referrer")
        SAME_PERSON = "same_person", _("Same identity (NIK) as the referrer")
        PHONE_SEEN = "phone_seen", _("Phone number seen on another account")
        IP_BURST = "ip_burst", _("Burst of sign-ups from one address through this link")

    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referrals_made", verbose_name=_("referrer")
    )
    referred = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral", verbose_name=_("friend")
    )
    status = models.CharField(_("status"), max_length=9, choices=Status.choices, default=Status.PENDING)
    flags = models.JSONField(_("fraud flags"), default=list, blank=True)
    # A keyed hash of the sign-up's address (core.crypto.fingerprint): enough to see a burst, not the address.
    signup_address = models.CharField(_("sign-up address (hashed)"), max_length=64, blank=True, db_index=True)
    signed_up_at = models.DateTimeField(_("signed up at"))
    qualifying_booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("qualifying booking"),
    )
    qualified_at = models.DateTimeField(_("first booking completed at"), null=True, blank=True)
    rewarded_at = models.DateTimeField(_("rewarded at"), null=True, blank=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ("-signed_up_at", "-pk")
        indexes = [models.Index(fields=["referrer", "rewarded_at"], name="promotions_referral_rewards")]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=models.F("referred")), name="promotions_referral_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} -> {self.referred_id} ({self.status})"


class Voucher(models.Model):
    """A referral reward for a customer: a discount on their own next booking (never cash). Its status moves
    with the booking's redemption: available -> reserved (a request took it) -> used (paid) or back to
    available (the request ended unpaid); revoked when the reward is reversed or withheld."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Ready to use")
        RESERVED = "reserved", _("Reserved by a request")
        USED = "used", _("Used")
        REVOKED = "revoked", _("Revoked")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vouchers", verbose_name=_("owner")
    )
    referral = models.OneToOneField(
        Referral, on_delete=models.CASCADE, related_name="voucher", verbose_name=_("referral")
    )
    amount = models.PositiveIntegerField(_("amount (Rupiah)"))
    status = models.CharField(_("status"), max_length=9, choices=Status.choices, default=Status.AVAILABLE)
    issued_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ("expires_at", "pk")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="promotions_voucher_amount_positive")]

    def __str__(self) -> str:
        return f"voucher {self.amount} ({self.status})"


class CommissionCut(models.Model):
    """A referral reward for a companion: their commission is `basis_points` lower on requests made from
    `starts_at` until `ends_at` (frozen into each booking's price at request time, like the level's)."""

    profile = models.ForeignKey(
        "companions.CompanionProfile",
        on_delete=models.CASCADE,
        related_name="commission_cuts",
        verbose_name=_("companion"),
    )
    referral = models.OneToOneField(
        Referral, on_delete=models.CASCADE, related_name="commission_cut", verbose_name=_("referral")
    )
    basis_points = models.PositiveIntegerField(_("cut (basis points)"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        verbose_name = _("commission cut")
        verbose_name_plural = _("commission cuts")
        ordering = ("-starts_at", "-pk")
        indexes = [models.Index(fields=["profile", "ends_at"], name="promotions_cut_active")]
        constraints = [
            models.CheckConstraint(condition=Q(basis_points__gt=0), name="promotions_cut_positive"),
            models.CheckConstraint(condition=Q(ends_at__gte=models.F("starts_at")), name="promotions_cut_range"),
        ]

    def __str__(self) -> str:
        return f"-{self.basis_points} bp until {self.ends_at:%Y-%m-%d}"


class StaffDecision(models.Model):
    """What staff decided about a code or a referral, and why (pausing a code, withholding a reward,
    releasing a held referral). Append-only: shown on the code's and the referral's admin pages."""

    class Action(models.TextChoices):
        PAUSE = "pause", _("Paused the code")
        RESUME = "resume", _("Resumed the code")
        WITHHOLD = "withhold", _("Withheld the reward")
        RELEASE = "release", _("Released the held referral")

    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    promotion = models.ForeignKey(
        Promotion, on_delete=models.CASCADE, null=True, blank=True, related_name="decisions", verbose_name=_("code")
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, null=True, blank=True, related_name="decisions", verbose_name=_("referral")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff")
    )
    reason = models.CharField(_("reason"), max_length=300)
    at = models.DateTimeField(_("decided at"))

    class Meta:
        verbose_name = _("staff decision")
        verbose_name_plural = _("staff decisions")
        ordering = ("-at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(promotion__isnull=False, referral__isnull=True)
                | Q(promotion__isnull=True, referral__isnull=False),
                name="promotions_decision_one_subject",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="promotions_decision_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.staff_id}"
