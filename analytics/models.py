"""Analytics (issue 18): daily rollups the dashboard reads instead of the main tables.

One row per day (Jakarta) × city × activity, recomputed whole for a day by the nightly job or the
`analytics_rollup` command (idempotent: the day's rows are replaced in one transaction). Aggregates only:
no names, emails or phones; small cells are suppressed when shown, not when stored."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyRollup(models.Model):
    day = models.DateField(_("day"))
    city = models.ForeignKey(
        "companions.City", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("city")
    )
    activity = models.ForeignKey(
        "companions.Activity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("activity"),
    )
    # The funnel: requests made that day, and what became of them (by the day they were requested).
    requests = models.PositiveIntegerField(_("requests"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    paid = models.PositiveIntegerField(_("paid"), default=0)
    completed = models.PositiveIntegerField(_("completed"), default=0)
    declined = models.PositiveIntegerField(_("declined"), default=0)
    unanswered = models.PositiveIntegerField(_("expired unanswered"), default=0)
    unpaid = models.PositiveIntegerField(_("expired unpaid"), default=0)
    cancelled_by_customer = models.PositiveIntegerField(_("cancelled by the customer"), default=0)
    cancelled_by_companion = models.PositiveIntegerField(_("cancelled by the companion"), default=0)
    withdrawn = models.PositiveIntegerField(_("withdrawn"), default=0)
    # Money of the bookings paid that day (whole Rupiah).
    gmv = models.BigIntegerField(_("GMV (paid totals)"), default=0)
    service_fees = models.BigIntegerField(_("service fees"), default=0)
    commission = models.BigIntegerField(_("commission"), default=0)
    discounts = models.BigIntegerField(_("discounts"), default=0)
    # Time to accept, summed in minutes over `accepted`, for averages.
    accept_minutes = models.BigIntegerField(_("minutes to accept, summed"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        ordering = ("-day",)
        permissions = [("view_dashboard", _("Can view the analytics dashboard"))]
        indexes = [models.Index(fields=["day", "city", "activity"], name="analytics_rollup_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "city", "activity"], name="analytics_rollup_one_cell", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.city_id}/{self.activity_id}"
