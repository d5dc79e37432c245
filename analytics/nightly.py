"""Every rollup of a day, composed (issue 18): the bookings' and paid products' (analytics/rollups.py), profile
views (traffic.py), people (people.py), quality and WhatsApp (quality.py), the levels' snapshot (quality.py);
and once a night, the monthly cohorts (people.py). The nightly task, the `analytics_rollup` command and the demo
seed all come through here, so a recomputed range is the whole dashboard's."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from analytics import people, quality, rollups, selectors, traffic

SECTIONS: tuple[rollups.DaySection, ...] = (
    *rollups.OWN_SECTIONS,
    traffic.rollup_profile_views,
    people.rollup_people,
    quality.rollup_quality,
    quality.rollup_levels,
)


def rollup_range(first: date, last: date, *, now: datetime | None = None, using: str | None = None) -> int:
    """Recomputes every section for every day from `first` to `last`, then the cohorts; returns the booking
    cells written."""
    now = now or timezone.now()
    cells = rollups.rollup_range(first, last, now=now, using=using, sections=SECTIONS)
    people.rollup_cohorts(now=now, using=using)
    selectors.rollups_changed()
    return cells


def rollup_day(day: date, *, now: datetime | None = None, using: str | None = None) -> int:
    return rollup_range(day, day, now=now, using=using)
