"""A companion's Sorotan statistics (issue 17): for one promotion, search impressions, profile views, requests
and bookings during it so far, against the same span immediately before it.

- Requests (bookings asked for, by their `created_at`) and bookings (confirmed: paid, by their `paid_at`)
  are counted over exact times: [starts_at, until) against [starts_at - (until - starts_at), starts_at),
  where `until` is now, or the end once the promotion is over.
- Impressions and views are kept per day (Jakarta's, DailyStat): the promotion's days (its first day to the
  day of `until`, both whole) against as many days just before its first. They lag the counting by up to
  the flush interval (5 minutes: products/promoted.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from bookings.models import Booking
from companions import view_counts
from products.models import DailyStat, Product, Purchase


@dataclass(frozen=True)
class Figure:
    during: int
    before: int

    @property
    def change(self) -> int:
        return self.during - self.before


@dataclass(frozen=True)
class SorotanStats:
    starts_at: datetime
    until: datetime  # the end of the span compared (now, or the promotion's end)
    first_day: date  # the days the daily figures cover: first_day .. last_day,
    last_day: date  # against the same number of days just before first_day
    impressions: Figure
    profile_views: Figure
    requests: Figure
    bookings: Figure

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def sorotan_stats(purchase: Purchase, *, now: datetime | None = None) -> SorotanStats | None:
    """The figures of a paid Sorotan (None for another product, or one not paid: no period). Two queries."""
    if purchase.product != Product.SOROTAN or purchase.starts_at is None or purchase.ends_at is None:
        return None
    now = now or timezone.now()
    starts = purchase.starts_at
    until = max(starts, min(now, purchase.ends_at))
    span = until - starts
    before = starts - span
    in_span = Q(created_at__gte=starts, created_at__lt=until)
    in_before = Q(created_at__gte=before, created_at__lt=starts)
    paid_in_span = Q(paid_at__gte=starts, paid_at__lt=until)
    paid_in_before = Q(paid_at__gte=before, paid_at__lt=starts)
    bookings = Booking.objects.filter(companion_id=purchase.profile_id).aggregate(
        requests_during=Count("pk", filter=in_span),
        requests_before=Count("pk", filter=in_before),
        bookings_during=Count("pk", filter=paid_in_span),
        bookings_before=Count("pk", filter=paid_in_before),
    )
    first_day = view_counts.count_day(starts)
    # A span that has not begun (or is empty) covers no day; otherwise the day of its last moment.
    last_day = view_counts.count_day(until - timedelta(microseconds=1)) if span else first_day - timedelta(days=1)
    days = (last_day - first_day).days + 1
    during_days = Q(day__gte=first_day, day__lte=last_day)
    before_days = Q(day__gte=first_day - timedelta(days=days), day__lt=first_day)
    daily = DailyStat.objects.filter(profile_id=purchase.profile_id).aggregate(
        impressions_during=Sum("impressions", filter=during_days, default=0),
        impressions_before=Sum("impressions", filter=before_days, default=0),
        views_during=Sum("profile_views", filter=during_days, default=0),
        views_before=Sum("profile_views", filter=before_days, default=0),
    )
    return SorotanStats(
        starts_at=starts,
        until=until,
        first_day=first_day,
        last_day=last_day,
        impressions=Figure(daily["impressions_during"], daily["impressions_before"]),
        profile_views=Figure(daily["views_during"], daily["views_before"]),
        requests=Figure(bookings["requests_during"], bookings["requests_before"]),
        bookings=Figure(bookings["bookings_during"], bookings["bookings_before"]),
    )
