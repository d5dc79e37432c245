"""Demo traffic for `make run` (composed by web's seed_demo, issue 18): what the search and profile-view counters
would have flushed over the demo's history, so the dashboard's funnel and liquidity heat map have something to
show. Searches fall mostly in the evenings and at weekends; the rarer activities and the smaller cities more
often show nobody free. Deterministic (a seeded generator) and idempotent: the days it covers are replaced,
today's counts (the live counters' own) are left alone."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction

from analytics.models import SearchStat
from companions.models import Activity, City, CompanionProfile
from products.models import DailyStat

SEED = 18


def _hour_weight(hour: int, weekend: bool) -> float:
    evening = 3.0 if 17 <= hour <= 21 else 1.5 if 10 <= hour <= 16 else 0.3 if hour < 7 else 1.0
    return evening * (1.6 if weekend else 1.0)


def seed_traffic(*, today: date, days: int = 180) -> tuple[int, int]:
    """Search statistics and profile views for the `days` before `today`; returns (search rows, view rows)."""
    rng = random.Random(SEED)  # noqa: S311 (demo figures, not secrets)
    cities = list(City.objects.order_by("pk"))
    activities = list(Activity.objects.order_by("pk"))
    profiles = list(CompanionProfile.objects.filter(user__is_active=True).order_by("pk").values_list("pk", "city_id"))
    if not cities or not activities:
        return 0, 0
    city_pull = {city.pk: 1.0 / (1 + index) for index, city in enumerate(cities)}
    activity_pull = {activity.pk: 1.0 / (1 + index) for index, activity in enumerate(activities)}
    first = today - timedelta(days=days)
    search_rows, view_rows = [], []
    for offset in range(days):
        day = first + timedelta(days=offset)
        growth = 0.5 + offset / days  # the marketplace grows over the half year
        for city in cities:
            for activity in [None, *activities]:
                pull = city_pull[city.pk] * (1.0 if activity is None else activity_pull[activity.pk])
                for hour in range(0, 24, 3):
                    slot = day + timedelta(days=rng.randrange(0, 7))  # searched for some day in the next week
                    weekday = slot.weekday()
                    expected = 6 * growth * pull * _hour_weight(hour, weekday >= 5)
                    searches = int(rng.expovariate(1 / expected)) if expected > 0.05 else 0
                    if not searches:
                        continue
                    scarcity = 0.1 + 0.5 * (1 - pull) + (0.2 if hour < 7 or hour > 21 else 0)
                    empty = sum(rng.random() < min(scarcity, 0.95) for _ in range(searches))
                    search_rows.append(
                        SearchStat(
                            day=day,
                            hour_of_week=weekday * 24 + hour + rng.randrange(0, 3),
                            city_id=city.pk,
                            activity_id=activity.pk if activity else None,
                            searches=searches,
                            empty=empty,
                        )
                    )
        for profile_id, city_id in profiles:
            views = int(rng.expovariate(1 / (4 * growth * city_pull.get(city_id, 0.2) + 0.5)))
            if views:
                impressions = views * rng.randint(3, 8)
                view_rows.append(
                    DailyStat(profile_id=profile_id, day=day, impressions=impressions, profile_views=views)
                )
    merged: dict[tuple, SearchStat] = {}
    for row in search_rows:  # two draws may land in the same cell
        key = (row.day, row.hour_of_week, row.city_id, row.activity_id)
        if key in merged:
            merged[key].searches += row.searches
            merged[key].empty += row.empty
        else:
            merged[key] = row
    with transaction.atomic():
        SearchStat.objects.filter(day__gte=first, day__lt=today).delete()
        SearchStat.objects.bulk_create(merged.values(), batch_size=2000)
        DailyStat.objects.filter(day__gte=first, day__lt=today).delete()
        DailyStat.objects.bulk_create(view_rows, batch_size=2000)
    return len(merged), len(view_rows)
