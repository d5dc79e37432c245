import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.phones import E164_PATTERN
from core.formatting import format_phone_national
from core.i18n import IndonesianTimeZone, Language


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    COMPANION = "companion", _("Companion")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email__iexact=username)


def avatar_upload_to(instance: "User", filename: str) -> str:
    # Server-generated names: nothing the uploader typed ends up in a path or URL.
    return f"avatars/{uuid.uuid4().hex}.png"


class User(AbstractBaseUser, PermissionsMixin):
    """Signs in with email. Staff are users with is_staff; customers and companions by role."""

    email = models.EmailField(_("email address"), max_length=254)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    phone = models.CharField(_("mobile number"), max_length=16, blank=True, help_text=_("E.164, e.g. +6281234567890"))
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.INDONESIAN
    )
    time_zone = models.CharField(
        _("time zone"), max_length=32, choices=IndonesianTimeZone.choices, default=IndonesianTimeZone.WIB
    )
    whatsapp_opt_in = models.BooleanField(_("WhatsApp messages"), default=False)
    # News and offers by email (issue 15: a consent of its own, given and withdrawn with one click).
    marketing_opt_in = models.BooleanField(_("News and offers"), default=False)
    # The number above was proven with a code sent over WhatsApp (cleared when the number changes).
    phone_verified_at = models.DateTimeField(_("number verified"), null=True, blank=True)
    email_notifications = models.BooleanField(_("Email notifications"), default=True)
    # Emails about unread chat messages (issue 14); the in-app badge is always on.
    message_emails = models.BooleanField(_("Emails about unread messages"), default=True)
    # Whether a Block involves this person either way, kept by accounts/blocks.py: search reads it from
    # the signed-in user (no query) and leaves blocked companions out only for those who have one.
    has_blocks = models.BooleanField(default=False, editable=False)
    avatar = models.ImageField(_("avatar"), upload_to=avatar_upload_to, blank=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Set by the purge (privacy app): the row stays for the books, every personal detail is gone, and the
    # person is shown as "former user" wherever their bookings or reviews are still read.
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="accounts_user_role_valid"),
            models.CheckConstraint(
                condition=models.Q(phone="") | models.Q(phone__regex=E164_PATTERN),
                name="accounts_user_phone_e164",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name()

    def get_full_name(self) -> str:
        if self.erased_at is not None:
            return str(_("Former user"))
        return self.full_name or self.email

    def get_short_name(self) -> str:
        if self.erased_at is not None:
            return str(_("Former user"))
        return (self.full_name.split() or [self.email])[0]

    @property
    def is_companion(self) -> bool:
        return self.role == Role.COMPANION

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def phone_display(self) -> str:
        return format_phone_national(self.phone) if self.phone else ""

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def user_display(user: User) -> str:
    """allauth's ACCOUNT_USER_DISPLAY."""
    return user.get_full_name()


class ConsentDocument(models.TextChoices):
    TERMS = "terms", _("Terms of Service")
    PRIVACY = "privacy", _("Privacy Policy")
    WHATSAPP = "whatsapp", _("WhatsApp messages")
    MARKETING = "marketing", _("News and offers")


# The consents a person may withdraw (and give again) at any time, each with the User field that holds
# it. Terms and privacy are the contract itself: withdrawn only by deleting the account.
WITHDRAWABLE_CONSENTS = {ConsentDocument.WHATSAPP: "whatsapp_opt_in", ConsentDocument.MARKETING: "marketing_opt_in"}


class ConsentRecord(models.Model):
    """Append-only evidence of what a user agreed to (or withdrew), when and from where (UU PDP)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    document = models.CharField(_("document"), max_length=16, choices=ConsentDocument.choices)
    version = models.CharField(_("version"), max_length=32, blank=True)
    granted = models.BooleanField(_("granted"), default=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "document", "-created_at"])]

    def __str__(self) -> str:
        action = "granted" if self.granted else "withdrew"
        return f"{self.user_id} {action} {self.document} {self.version}"


class PhoneVerification(models.Model):
    """A 6-digit code sent over WhatsApp to prove a number. Only its keyed hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_verifications")
    phone = models.CharField(_("mobile number"), max_length=16, db_index=True)
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"verification of user {self.user_id}"


class Block(models.Model):
    """One person blocked another: from then on neither can message or send a request to the other, and a
    blocked companion no longer shows in that customer's search. Undone from settings (the row goes)."""

    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField(_("blocked at"), default=timezone.now)

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="accounts_block_once"),
            models.CheckConstraint(condition=~models.Q(blocker=models.F("blocked")), name="accounts_block_not_self"),
        ]
        indexes = [models.Index(fields=["blocked", "blocker"], name="accounts_block_by_blocked")]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"
