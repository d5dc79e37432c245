"""Searches and profile views (issue 18): the funnel's first two steps and the liquidity heat map.

- Searches are counted in the cache by the search page (companions.view_counts.count_search: one counter
  cell per day encoding hour of the week × city × activity × "showed nobody"), never written to the
  database on the page. `flush_searches` (every 5 minutes, analytics/tasks.py) decodes the cells and adds
  them to SearchStat with one INSERT ... ON CONFLICT DO UPDATE per 500 rows, so two flushes (or a flush
  and a retry) add, never overwrite.
- Profile views are counted per companion into products.DailyStat; `rollup_profile_views(day)` sums them
  by the companion's city into ProfileViewRollup (nightly, the day's rows replaced in one transaction).
- `traffic_figures` reads only those two tables (and today's views live from DailyStat): three queries at
  most, whatever the range.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from analytics import reading
from analytics.csv_export import suppress
from analytics.models import ProfileViewRollup, SearchStat
from analytics.selectors import Period, is_small
from companions import view_counts
from companions.models import Activity, City
from core import counters
from products.models import DailyStat

HOURS = 24
DAYS = 7
# The heat map's shades: share of searches that showed nobody, 0 % → heat-0, up to 20 % → heat-1, … over
# 80 % → heat-5 (static/css/analytics-heatmap.css).
SHADE_STEP = 20
CHUNK = 500


def decode_search_cell(cell: int) -> tuple[int, int | None, int | None, bool]:
    """(hour_of_week, city_id or None, activity_id or None, empty) of a counter cell (view_counts.search_cell)."""
    if cell < 0:
        raise ValueError(cell)
    rest, empty = divmod(cell, 2)
    rest, hour = divmod(rest, view_counts.HOURS_OF_WEEK)
    city_id, activity_id = divmod(rest, view_counts.ID_RADIX)
    return hour, city_id or None, activity_id or None, bool(empty)


def _search_rows(counts: dict[int, int]) -> list[tuple[int, int | None, int | None, int, int]]:
    """The counts by (hour, city, activity): (hour, city_id, activity_id, searches, empty), sorted; cells
    naming a city or activity that no longer exists (or never did) are dropped."""
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for cell, count in counts.items():
        if count <= 0:
            continue
        try:
            key = decode_search_cell(cell)
        except ValueError:
            continue
        hour, city_id, activity_id, empty = key
        cells[(hour, city_id, activity_id)][0] += count
        if empty:
            cells[(hour, city_id, activity_id)][1] += count
    city_ids = {key[1] for key in cells} - {None}
    activity_ids = {key[2] for key in cells} - {None}
    cities = set(City.objects.filter(pk__in=city_ids).values_list("pk", flat=True)) if city_ids else set()
    activities = (
        set(Activity.objects.filter(pk__in=activity_ids).values_list("pk", flat=True)) if activity_ids else set()
    )
    kept = [
        (hour, city_id, activity_id, searches, empty)
        for (hour, city_id, activity_id), (searches, empty) in cells.items()
        if (city_id is None or city_id in cities) and (activity_id is None or activity_id in activities)
    ]
    # One order for every flush (NULL as 0), so two flushes lock their rows in the same order: no deadlock.
    return sorted(kept, key=lambda row: (row[0], row[1] or 0, row[2] or 0))


def searches_add(day: date, counts: dict[int, int]) -> None:
    """Adds a day's counter cells (cell -> count) to SearchStat, rows made when missing. One statement per
    500 rows, each adding to the row it meets (the unique cell, NULLs equal), so concurrent flushes add up."""
    rows = _search_rows(counts)
    if connection.vendor != "postgresql":  # make run's SQLite: row by row (its writes are serialised anyway)
        for hour, city, activity, searches, empty in rows:
            cell = {"day": day, "hour_of_week": hour, "city_id": city, "activity_id": activity}
            if not SearchStat.objects.filter(**cell).update(
                searches=F("searches") + searches, empty=F("empty") + empty
            ):
                SearchStat.objects.create(**cell, searches=searches, empty=empty)
        return
    table = SearchStat._meta.db_table
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
        params = [
            value
            for hour, city, activity, searches, empty in chunk
            for value in (day, hour, city, activity, searches, empty)
        ]
        # The table's name comes from the model, never from input.
        sql = (
            f"INSERT INTO {table} (day, hour_of_week, city_id, activity_id, searches, empty) VALUES {values} "  # noqa: S608
            "ON CONFLICT ON CONSTRAINT analytics_searchstat_one_cell DO UPDATE SET "
            f"searches = {table}.searches + EXCLUDED.searches, empty = {table}.empty + EXCLUDED.empty"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def flush_searches(*, today: date) -> int:
    """Moves the searches counted in the cache into SearchStat; returns how many searches moved (those
    of dropped cities or activities included). Raises a redis error for the task to retry."""
    return counters.flush(view_counts.SEARCHES, searches_add, today=today)


def compute_profile_views(day: date, *, using: str, now: datetime | None = None) -> list[ProfileViewRollup]:
    """The day's profile views by the companion's city, from products.DailyStat (one query, unsaved rows)."""
    now = now or timezone.now()
    rows = (
        DailyStat.objects.using(using)
        .filter(day=day, profile_views__gt=0)
        .values("profile__city_id")
        .annotate(views=Sum("profile_views"))
        .order_by("profile__city_id")
    )
    return [
        ProfileViewRollup(day=day, city_id=row["profile__city_id"], views=row["views"], computed_at=now) for row in rows
    ]


def rollup_profile_views(day: date, *, now: datetime, using: str | None = None) -> int:
    """Recomputes the day's ProfileViewRollup rows (replaced in one transaction: run twice, the same rows);
    reads from `using` (default: the replica when configured). Returns how many rows the day has."""
    rows = compute_profile_views(day, using=using or reading.source(), now=now)
    with transaction.atomic():
        ProfileViewRollup.objects.filter(day=day).delete()
        ProfileViewRollup.objects.bulk_create(rows)
    return len(rows)


PLACES_SHOWN = 10


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _shade(share: float | None) -> int | None:
    return None if share is None else min(5, math.ceil(share / SHADE_STEP))


def traffic_figures(*, period: Period, city=None, activity=None, today: date) -> dict:
    """Searches, searches that showed nobody free, profile views, and the heat map of the share of searches
    that showed nobody free by day of the week × hour (Jakarta), for the period and filters.

    Reads SearchStat and ProfileViewRollup only, and today's profile views live (compute_profile_views)
    when the period reaches today: at most three queries. Profile views are None with an activity filter
    (a profile view is of no activity). Counts under 5 are flagged `small` for "< 5"; a heat map cell with
    fewer than 5 searches shows no share."""
    where = Q(day__gte=period.start, day__lte=period.end)
    if city is not None:
        where &= Q(city=city)
    if activity is not None:
        where &= Q(activity=activity)
    by_hour = {
        row["hour_of_week"]: (int(row["searches"] or 0), int(row["empty"] or 0))
        for row in SearchStat.objects.filter(where)
        .values("hour_of_week")
        .annotate(searches=Sum("searches"), empty=Sum("empty"))
        .order_by()
    }
    # Where to recruit: the city × activity cells of the period, those whose searches most often found nobody.
    places = []
    by_place = (
        SearchStat.objects.filter(where)
        .values("city__name", "activity__name_id", "activity__name_en")
        .annotate(searches=Sum("searches"), empty=Sum("empty"))
        .order_by()
    )
    english = (get_language() or "id").startswith("en")
    for row in by_place:
        found, nobody = int(row["searches"] or 0), int(row["empty"] or 0)
        if is_small(found) or not found:
            continue
        places.append(
            {
                "city": row["city__name"] or _("Any city"),
                "activity": row["activity__name_en" if english else "activity__name_id"] or _("Any activity"),
                "searches": found,
                "empty": nobody,
                "empty_small": is_small(nobody),
                "share": None if is_small(nobody) else _share(nobody, found),
            }
        )
    places.sort(key=lambda place: (-(place["share"] or 0), -place["searches"]))
    places = places[:PLACES_SHOWN]
    searches = sum(found for found, _empty in by_hour.values())
    empty = sum(nobody for _found, nobody in by_hour.values())

    views = None
    if activity is None:
        live = period.start <= today <= period.end
        stored = ProfileViewRollup.objects.filter(day__gte=period.start, day__lte=period.end)
        if live:
            stored = stored.exclude(day=today)
        if city is not None:
            stored = stored.filter(city=city)
        views = int(stored.aggregate(views=Sum("views"))["views"] or 0)
        if live:
            city_id = None if city is None else city.pk
            views += sum(
                row.views
                for row in compute_profile_views(today, using=reading.source())
                if city is None or row.city_id == city_id
            )

    heatmap = []
    for weekday in range(DAYS):
        cells = []
        for hour in range(HOURS):
            found, nobody = by_hour.get(weekday * HOURS + hour, (0, 0))
            small = is_small(found)
            share = None if small else _share(nobody, found)
            cells.append(
                {
                    "hour": hour,
                    "searches": found,
                    "empty": nobody,
                    "small": small,
                    "share": share,
                    "shade": _shade(share),
                }
            )
        heatmap.append({"weekday": weekday, "label": WEEKDAYS[weekday], "cells": cells})
    return {
        "period": period,
        "searches": searches,
        "searches_small": is_small(searches),
        "empty": empty,
        "empty_small": is_small(empty),
        "empty_share": None if is_small(searches) or is_small(empty) else _share(empty, searches),
        "profile_views": views,
        "profile_views_small": views is not None and is_small(views),
        "heatmap": heatmap,
        "places": places,
    }


def heatmap_csv(figures: dict) -> tuple[list[str], list[list]]:
    """The heat map as CSV rows (one per day of the week × hour): small cells kept as "< 5", no share."""
    header = [
        _("Day of the week"),
        _("Hour"),
        _("Searches"),
        _("Showed nobody free"),
        _("Share that showed nobody free (%)"),
    ]
    rows = []
    for row in figures["heatmap"]:
        for cell in row["cells"]:
            rows.append(
                [
                    str(row["label"]),
                    f"{cell['hour']:02d}",
                    suppress(cell["searches"]) if cell["small"] else cell["searches"],
                    "" if cell["small"] else cell["empty"],
                    "" if cell["share"] is None else cell["share"],
                ]
            )
    return header, rows
