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
    # What the platform gave back of its own part (service fee + commission) in refunds sent that day, by
    # the booking's city and activity: the "refunds kept by us" taken off net revenue.
    refunds = models.BigIntegerField(_("refunds of our part"), default=0)
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


def _city():
    return models.ForeignKey(
        "companions.City", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("city")
    )


def _activity():
    return models.ForeignKey(
        "companions.Activity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("activity"),
    )


class SearchStat(models.Model):
    """Searches counted in the cache (no database write in the search's hot path) and flushed here by adding
    to the row: per day × hour of the week asked for × city × activity searched (NULL: any), how many searches
    and how many showed nobody free. The liquidity heat map and the funnel's first step read it."""

    day = models.DateField(_("day"))
    # 0 = Monday 00:00–00:59 (Jakarta) … 167 = Sunday 23:00–23:59.
    hour_of_week = models.PositiveSmallIntegerField(_("hour of the week"))
    city = _city()
    activity = _activity()
    searches = models.PositiveIntegerField(_("searches"), default=0)
    empty = models.PositiveIntegerField(_("searches that showed nobody free"), default=0)

    class Meta:
        verbose_name = _("search statistic")
        verbose_name_plural = _("search statistics")
        ordering = ("-day", "hour_of_week")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "hour_of_week", "city", "activity"],
                name="analytics_searchstat_one_cell",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=models.Q(hour_of_week__lt=168), name="analytics_searchstat_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.day} h{self.hour_of_week} {self.city_id}/{self.activity_id}"


class ProfileViewRollup(models.Model):
    """Profile views per day × the companion's city (views are not of one activity), rolled up nightly from
    the per-companion counts (products.DailyStat)."""

    day = models.DateField(_("day"))
    city = _city()
    views = models.PositiveIntegerField(_("profile views"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("profile views rollup")
        verbose_name_plural = _("profile views rollups")
        ordering = ("-day",)
        constraints = [
            models.UniqueConstraint(fields=["day", "city"], name="analytics_views_one_cell", nulls_distinct=False)
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.city_id}"


class DailyPeople(models.Model):
    """People per day (Jakarta), platform-wide: sign-ups, first bookings, and the companions with free time in
    the next 7 days as counted when the day was rolled up (a snapshot; NULL when it was not taken)."""

    day = models.DateField(_("day"), unique=True)
    new_customers = models.PositiveIntegerField(_("new customers"), default=0)
    new_companions = models.PositiveIntegerField(_("new companions"), default=0)
    # Customers whose first booking request was that day, and the hours from their sign-up to it, summed.
    first_bookings = models.PositiveIntegerField(_("first bookings"), default=0)
    signup_to_first_hours = models.BigIntegerField(_("hours from sign-up to first booking, summed"), default=0)
    active_companions = models.PositiveIntegerField(_("active companions"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("daily people")
        verbose_name_plural = _("daily people")
        ordering = ("-day",)

    def __str__(self) -> str:
        return str(self.day)


class CohortRetention(models.Model):
    """Monthly cohorts: the customers whose first paid booking was in `cohort` (first of the month) and how many
    of them paid for a booking again `months_after` months later. Replaced whole by the nightly job."""

    cohort = models.DateField(_("cohort month"))
    months_after = models.PositiveSmallIntegerField(_("months after"))
    customers = models.PositiveIntegerField(_("customers"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("cohort retention")
        verbose_name_plural = _("cohort retention")
        ordering = ("cohort", "months_after")
        constraints = [models.UniqueConstraint(fields=["cohort", "months_after"], name="analytics_cohort_one_cell")]

    def __str__(self) -> str:
        return f"{self.cohort:%Y-%m} +{self.months_after}"


class DailyQuality(models.Model):
    """Trust and messaging per day, platform-wide: the stars of customers' reviews of companions published that
    day, disputes opened, safety reports made, and WhatsApp messages sent, delivered and failed."""

    day = models.DateField(_("day"), unique=True)
    stars_1 = models.PositiveIntegerField(_("1-star reviews"), default=0)
    stars_2 = models.PositiveIntegerField(_("2-star reviews"), default=0)
    stars_3 = models.PositiveIntegerField(_("3-star reviews"), default=0)
    stars_4 = models.PositiveIntegerField(_("4-star reviews"), default=0)
    stars_5 = models.PositiveIntegerField(_("5-star reviews"), default=0)
    disputes = models.PositiveIntegerField(_("disputes opened"), default=0)
    safety_reports = models.PositiveIntegerField(_("safety reports"), default=0)
    whatsapp_sent = models.PositiveIntegerField(_("WhatsApp messages sent"), default=0)
    whatsapp_delivered = models.PositiveIntegerField(_("WhatsApp messages delivered"), default=0)
    whatsapp_failed = models.PositiveIntegerField(_("WhatsApp messages failed"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("daily quality")
        verbose_name_plural = _("daily quality")
        ordering = ("-day",)

    def __str__(self) -> str:
        return str(self.day)


class LevelCount(models.Model):
    """How many verified companions held each level when the day was rolled up (a snapshot)."""

    day = models.DateField(_("day"))
    level = models.CharField(_("level"), max_length=16)
    companions = models.PositiveIntegerField(_("companions"))

    class Meta:
        verbose_name = _("level count")
        verbose_name_plural = _("level counts")
        ordering = ("-day", "level")
        constraints = [models.UniqueConstraint(fields=["day", "level"], name="analytics_levelcount_one_cell")]

    def __str__(self) -> str:
        return f"{self.day} {self.level}"


class DailyProductSales(models.Model):
    """Paid products per day and kind (Sorotan, Plus): purchases paid, their price, and refunds sent."""

    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=16)
    purchases = models.PositiveIntegerField(_("purchases"), default=0)
    sales = models.BigIntegerField(_("sales"), default=0)
    refunds = models.BigIntegerField(_("refunds"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("daily product sales")
        verbose_name_plural = _("daily product sales")
        ordering = ("-day", "kind")
        constraints = [models.UniqueConstraint(fields=["day", "kind"], name="analytics_productsales_one_cell")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}"
