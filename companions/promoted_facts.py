"""Which companions are promoted in search (Sorotan, issue 17), without importing products.

products sits above companions (a purchase is of a companion profile), so companions may never import
products. products registers a provider here at startup (ProductsConfig.ready()): `periods(now)`, the
(profile id, starts_at, ends_at) of every paid promotion that ends after `now` (running or still to come).

Search reads the promoted set at the request's moment (`promoted_ids(now)`): it decides the order of the
results and the "Promoted" label, so it is part of the rendered search page's cache key. With the page
cache on, the periods are kept in the cache for at most SCHEDULE_SECONDS, so a warm page still asks
nothing of the database; the set is computed from them at `now`, so a promotion that ends stops at that
moment (the key changes with the set), while one bought meanwhile shows within SCHEDULE_SECONDS (or at
once when products calls `schedule_changed()` after the write). With the page cache off, or the cache
down, the periods are read from the database (one indexed query per search page).

Without a provider (companions used alone) nobody is promoted.

Pausing a profile pauses its promotion's clock: companions.services tells products through
`paused_changed(profile, paused, now)` (a listener products registers).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache
from django.db import transaction

from companions import page_cache
from core import cache as core_cache

Period = tuple[int, datetime, datetime]

SCHEDULE_KEY = "companions:promoted:schedule"
# How long a copy of the periods serves: the longest a promotion bought (or refunded) without a call to
# schedule_changed() waits before search sees it. An end on schedule is seen at once (read at `now`).
SCHEDULE_SECONDS = 60

_provider: Callable[[datetime], list[Period]] | None = None
_pause_listeners: list[Callable[..., None]] = []


def register(provider: Callable[[datetime], list[Period]]) -> None:
    global _provider  # noqa: PLW0603 - one provider per process, set at startup
    _provider = provider


def registered() -> bool:
    return _provider is not None


def _periods(now: datetime) -> list[Period]:
    if _provider is None:
        return []
    if not page_cache.enabled():
        return _provider(now)
    try:
        with core_cache.unguarded():
            kept = cache.get(SCHEDULE_KEY)
    except core_cache.CacheUnavailable:
        return _provider(now)
    # A copy read before `now` lists every period ending after the moment it was read: enough for `now`,
    # which is later. A copy from the future (clocks apart) is not trusted.
    if kept is not None and kept[0] <= now:
        return kept[1]
    periods = list(_provider(now))
    cache.set(SCHEDULE_KEY, (now, periods), timeout=SCHEDULE_SECONDS)  # never raises
    return periods


def promoted_ids(now: datetime) -> frozenset[int]:
    """The companions whose promotion runs at `now` (starts_at <= now < ends_at)."""
    return frozenset(profile_id for profile_id, starts, ends in _periods(now) if starts <= now < ends)


def schedule_changed() -> None:
    """A promotion was paid, refunded or moved: after commit, search reads the periods again."""

    def forget() -> None:
        cache.delete(SCHEDULE_KEY)  # never raises; while the cache is down the copy expires by itself

    transaction.on_commit(forget, robust=True)


def register_pause_listener(listener: Callable[..., None]) -> None:
    """`listener(profile=, paused=, now=)` runs inside the transaction that paused or resumed the profile."""
    if listener not in _pause_listeners:
        _pause_listeners.append(listener)


def paused_changed(*, profile, paused: bool, now: datetime) -> None:
    for listener in _pause_listeners:
        listener(profile=profile, paused=paused, now=now)
