import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companions.models import Activity, CompanionProfile


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    DISPUTED = "disputed", _("Disputed")
    RESOLVED = "resolved", _("Resolved")


# The one table of allowed moves (DESIGN.md section 3). Every transition service checks it.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    BookingStatus.REQUESTED: {BookingStatus.AWAITING_PAYMENT, BookingStatus.DECLINED, BookingStatus.WITHDRAWN},
    BookingStatus.AWAITING_PAYMENT: {
        BookingStatus.CONFIRMED,
        BookingStatus.EXPIRED,
        BookingStatus.WITHDRAWN,
        BookingStatus.CANCELLED,
    },
    # A payment that settles after expiry re-holds the slot if it is still free (payments issue).
    BookingStatus.EXPIRED: {BookingStatus.CONFIRMED},
    BookingStatus.CONFIRMED: {BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.DISPUTED},
    BookingStatus.DISPUTED: {BookingStatus.RESOLVED},
    # Completion is the end: it happens 24 h after the end, when disputes close, and releases the escrow
    # (a dispute after it would have no money left to decide about).
}

# Statuses whose bookings hold the companion's time (requested/awaiting payment only until their
# deadlines: queries add that condition; the database constraint cannot look at the clock).
HOLDING_STATUSES = (
    BookingStatus.REQUESTED,
    BookingStatus.AWAITING_PAYMENT,
    BookingStatus.CONFIRMED,
    BookingStatus.DISPUTED,
)
OPEN_STATUSES = (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT)


class BookingQuerySet(models.QuerySet):
    """The clock's filters, beside their Python twins on Booking (`holds_time_at`, `is_overdue`,
    `is_completable`): tests hold each pair to the same answer."""

    def holding(self, now) -> "BookingQuerySet":
        """Bookings that hold the companion's time at `now`: requested and awaiting payment only until
        their deadlines; confirmed and disputed always."""
        return self.filter(
            models.Q(status=BookingStatus.REQUESTED, response_deadline__gt=now)
            | models.Q(status=BookingStatus.AWAITING_PAYMENT, payment_deadline__gt=now)
            | models.Q(status__in=(BookingStatus.CONFIRMED, BookingStatus.DISPUTED))
        )

    def overdue(self, now) -> "BookingQuerySet":
        """Open bookings whose deadline has passed but which the clock has not moved yet (a request
        unanswered, an accepted booking unpaid)."""
        return self.filter(
            models.Q(status=BookingStatus.REQUESTED, response_deadline__lte=now)
            | models.Q(status=BookingStatus.AWAITING_PAYMENT, payment_deadline__lte=now)
        )

    def completable(self, now) -> "BookingQuerySet":
        """Confirmed bookings past their dispute window: the clock completes them."""
        return self.filter(status=BookingStatus.CONFIRMED, complete_after__lte=now)

    def due(self, now) -> "BookingQuerySet":
        """Everything the clock has to move at `now` (overdue or completable)."""
        return self.overdue(now) | self.completable(now)


def new_reference() -> str:
    # Shown to people and used in URLs instead of the row id: unguessable, easy to read aloud.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "KMP-" + "".join(secrets.choice(alphabet) for _ in range(8))


class Booking(models.Model):
    reference = models.CharField(_("reference"), max_length=16, unique=True, default=new_reference, editable=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("customer")
    )
    companion = models.ForeignKey(
        CompanionProfile, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("companion")
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    # end + the companion's buffer at booking time: the span no other holding booking may overlap.
    hold_until = models.DateTimeField(_("held until"))
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, verbose_name=_("activity"))
    meeting_place = models.CharField(_("meeting place"), max_length=200)
    note = models.TextField(_("note"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=BookingStatus.choices, default=BookingStatus.REQUESTED, db_index=True
    )
    # Frozen price snapshot (bookings/pricing.py), whole Rupiah.
    hourly_rate = models.BigIntegerField(_("hourly rate"))
    hours = models.PositiveSmallIntegerField(_("hours"))
    subtotal = models.BigIntegerField(_("subtotal"))
    service_fee = models.BigIntegerField(_("service fee"))
    discount = models.BigIntegerField(_("discount"), default=0)
    total = models.BigIntegerField(_("total"))
    commission_basis_points = models.PositiveIntegerField(_("commission (basis points)"))
    commission = models.BigIntegerField(_("commission"))
    companion_earnings = models.BigIntegerField(_("companion earnings"))
    # Deadlines (DESIGN.md section 3), stored so pages, services and sweeps read the same values.
    response_deadline = models.DateTimeField(_("answer by"))
    payment_deadline = models.DateTimeField(_("pay by"), null=True, blank=True)
    complete_after = models.DateTimeField(_("completes after"))
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Settlement of a cancellation or dispute (bookings/policy.py), for the payments issue to carry out.
    refund_amount = models.BigIntegerField(_("refund"), null=True, blank=True)
    settled_companion_earnings = models.BigIntegerField(_("companion earnings after settlement"), null=True, blank=True)
    cancelled_by = models.CharField(_("cancelled by"), max_length=16, blank=True)
    # Cancelled by a party through a report about the other ("for my safety", safety/reports.py), or by staff
    # suspending the other party: never counted against anyone's reliability or level.
    cancelled_for_safety = models.BooleanField(_("cancelled for safety"), default=False)
    reason = models.TextField(_("reason"), max_length=1000, blank=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="bookings_end_after_start"),
            models.CheckConstraint(
                condition=models.Q(hold_until__gte=models.F("end")), name="bookings_hold_covers_booking"
            ),
            models.CheckConstraint(
                condition=models.Q(total=models.F("subtotal") + models.F("service_fee") - models.F("discount")),
                name="bookings_total_adds_up",
            ),
            models.CheckConstraint(
                condition=models.Q(companion_earnings=models.F("subtotal") - models.F("commission")),
                name="bookings_earnings_add_up",
            ),
            models.CheckConstraint(condition=models.Q(total__gte=0, hours__gte=1), name="bookings_amounts_valid"),
            # The no-overlap exclusion constraints live in migration 0002 (PostgreSQL only).
        ]
        indexes = [
            models.Index(fields=["companion", "status", "start"], name="bookings_companion_status"),
            models.Index(fields=["customer", "status", "start"], name="bookings_customer_status"),
            # The analytics rollups read a day's requests, payments and settlements (analytics/rollups.py).
            models.Index(fields=["created_at"], name="bookings_created_at"),
            models.Index(fields=["paid_at"], name="bookings_paid_at", condition=models.Q(paid_at__isnull=False)),
            models.Index(
                fields=["closed_at"], name="bookings_refunded_closed_at", condition=models.Q(refund_amount__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def was_instant(self) -> bool:
        """Booked instantly: created already accepted (awaiting payment), with nobody answering."""
        return self.accepted_at is not None and self.accepted_at == self.created_at

    @property
    def is_holding(self) -> bool:
        return self.holds_time_at(timezone.now())

    def holds_time_at(self, moment) -> bool:
        """Python twin of `Booking.objects.holding(moment)`."""
        if self.status == BookingStatus.REQUESTED:
            return self.response_deadline > moment
        if self.status == BookingStatus.AWAITING_PAYMENT:
            return self.payment_deadline is not None and self.payment_deadline > moment
        return self.status in (BookingStatus.CONFIRMED, BookingStatus.DISPUTED)

    def is_overdue(self, moment) -> bool:
        """Python twin of `Booking.objects.overdue(moment)`."""
        if self.status == BookingStatus.REQUESTED:
            return self.response_deadline <= moment
        if self.status == BookingStatus.AWAITING_PAYMENT:
            return self.payment_deadline is not None and self.payment_deadline <= moment
        return False

    def is_completable(self, moment) -> bool:
        """Python twin of `Booking.objects.completable(moment)`."""
        return self.status == BookingStatus.CONFIRMED and self.complete_after <= moment


class BookingEvent(models.Model):
    """Append-only audit of every transition: who, when, from, to, why."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")
        ordering = ["created_at", "id"]
        # The analytics count a day's disputes by their event (analytics/quality.py).
        indexes = [models.Index(fields=["to_status", "created_at"], name="bookings_event_status_time")]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.from_status or '∅'} → {self.to_status}"


class CalendarFeed(models.Model):
    """A companion's private ICS feed. The token is the only secret in the URL; revoking deletes it."""

    profile = models.OneToOneField(CompanionProfile, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar feed of {self.profile_id}"
