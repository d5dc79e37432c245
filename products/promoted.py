"""Sorotan in search (issue 17): what products tells companions at startup (ProductsConfig.ready()), and the
daily view counts it keeps for the companion's statistics.

- companions.promoted_facts gets the paid promotions' periods (search lifts and labels the promoted).
- The view counters (companions/view_counts.py, kept in the cache by core/counters.py) are flushed into
  DailyStat by adding to each (profile, day) row: `flush_view_counts()`, every 5 minutes (tasks.py).
- DailyStat is declared personal data (a companion's own figures): exported, and deleted by a purge."""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from companions import promoted_facts, view_counts
from companions.models import CompanionProfile
from core import counters, personal_data
from products.models import DailyStat, Product, Purchase
from products.selectors import LIVE

COUNTED = {view_counts.SEARCH_IMPRESSIONS: "impressions", view_counts.PROFILE_VIEWS: "profile_views"}


def promotion_periods(now: datetime) -> list[tuple[int, datetime, datetime]]:
    """(profile id, starts_at, ends_at) of every paid Sorotan that ends after `now` (one indexed query)."""
    periods = Purchase.objects.filter(product=Product.SOROTAN, status__in=LIVE, ends_at__gt=now)
    return [tuple(row) for row in periods.values_list("profile_id", "starts_at", "ends_at")]


def daily_stats_add(*, column: str, day: date, counts: dict[int, int]) -> None:
    """Adds `counts` (profile id -> count) to `column` of the day's rows, made when missing: one
    INSERT ... ON CONFLICT DO UPDATE per 500 profiles, so two flushes never overwrite each other."""
    if column not in COUNTED.values():
        raise ValueError(column)
    existing = set(CompanionProfile.objects.filter(pk__in=list(counts)).values_list("pk", flat=True))
    rows = sorted((pk, count) for pk, count in counts.items() if pk in existing and count > 0)
    table = DailyStat._meta.db_table
    other = "profile_views" if column == "impressions" else "impressions"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        values = ", ".join(["(%s, %s, %s, 0)"] * len(chunk))
        params = [value for pk, count in chunk for value in (pk, day, count)]
        # Table and column names come from the model and COUNTED above, never from input.
        sql = (
            f"INSERT INTO {table} (profile_id, day, {column}, {other}) VALUES {values} "  # noqa: S608
            f"ON CONFLICT (profile_id, day) DO UPDATE SET {column} = {table}.{column} + EXCLUDED.{column}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def flush_view_counts(now: datetime | None = None) -> int:
    """Moves the counted impressions and views into DailyStat; returns how many counts moved."""
    today = view_counts.count_day(now or timezone.now())
    moved = 0
    for name, column in COUNTED.items():
        moved += counters.flush(
            name, lambda day, counts, column=column: daily_stats_add(column=column, day=day, counts=counts), today=today
        )
    return moved


def export_daily_stats(user, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {"day": row.day.isoformat(), "search_impressions": row.impressions, "profile_views": row.profile_views}
        for row in DailyStat.objects.filter(profile__user_id=user.pk).order_by("day")
    ]


def purge_daily_stats(user, ctx: personal_data.PurgeContext) -> None:
    DailyStat.objects.filter(profile__user_id=user.pk).delete()


def register() -> None:
    promoted_facts.register(promotion_periods)
    personal_data.register(
        "sorotan_statistics",
        models=("products.DailyStat",),
        export=export_daily_stats,
        purge=purge_daily_stats,
    )
