"""Cheap named per-day counters: many ids counted in one cache round trip, flushed to the database later.

A page that counts (search impressions, profile views) must not write to the database nor wait on a
broken cache. `increment(name, ids, day=)` adds one per id (an id given twice counts twice) to a Redis
hash per name and day, in one pipelined round trip; a Redis failure is logged (by the cache, once a
minute) and swallowed, and while Redis is down (core.cache.ResilientRedisCache's RETRY_SECONDS) it is
not even tried, so an outage costs a page nothing but the counts.

`flush(name, apply)` moves the counts into the database: each day's hash is RENAMEd to a pending key
(atomic: increments after that go to a fresh hash), read, handed to `apply(day, {id: count})` inside a
transaction, and deleted after the commit. A pending key left by a flush that failed (the database
refused, the process stopped) is applied by the next flush, before the live hash is renamed again, so no
count is lost; only a process killed between the commit and the delete would apply a batch twice. One
flush runs at a time (a lock key in Redis).

Without Redis (`make run` with the in-process cache) the counts are kept in this process's memory.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.core.cache import caches
from django.db import transaction
from redis.exceptions import ResponseError

from core.cache import ResilientRedisCache

logger = logging.getLogger(__name__)

# A day's hash lives this long without a flush (then it is dropped, so a stopped beat never fills Redis).
KEEP_DAYS = 8
LOCK_SECONDS = 300

_memory: dict[tuple[str, date], Counter] = {}
_memory_lock = threading.Lock()


def _redis_cache() -> ResilientRedisCache | None:
    backend = caches["default"]  # the backend itself (django.core.cache.cache is a proxy to it)
    return backend if isinstance(backend, ResilientRedisCache) else None


def _key(name: str, suffix: str) -> str:
    return caches["default"].make_and_validate_key(f"counters:{name}:{suffix}")


def increment(name: str, ids: Iterable[int], *, day: date) -> None:
    """Adds one to `name`'s count of each id for `day` (one round trip). Never raises for the cache."""
    counts = Counter(int(pk) for pk in ids)
    if not counts:
        return
    backend = _redis_cache()
    if backend is None:
        with _memory_lock:
            _memory.setdefault((name, day), Counter()).update(counts)
        return
    live, days = _key(name, day.isoformat()), _key(name, "days")

    def send() -> None:
        pipe = backend._cache.get_client(write=True).pipeline(transaction=False)
        for pk, count in counts.items():
            pipe.hincrby(live, pk, count)
        pipe.expire(live, int(timedelta(days=KEEP_DAYS).total_seconds()))
        pipe.sadd(days, day.isoformat())
        pipe.execute()

    # The cache's guard: failures logged and swallowed, Redis left alone for a second after one.
    backend._call([], lambda: None, lambda: None, send)


def flush(name: str, apply: Callable[[date, dict[int, int]], None], *, today: date) -> int:
    """Moves `name`'s counts into the database through `apply(day, counts)` (called inside a transaction,
    once per day with counts). Returns how many counts were applied. Raises redis errors (a task retries)."""
    backend = _redis_cache()
    if backend is None:
        return _flush_memory(name, apply)
    client = backend._cache.get_client(write=True)
    lock = _key(name, "flush-lock")
    if not client.set(lock, 1, nx=True, ex=LOCK_SECONDS):
        return 0  # another flush is running; it takes these counts
    try:
        applied = 0
        days_key = _key(name, "days")
        for raw_day in sorted(client.smembers(days_key)):
            day_text = raw_day.decode() if isinstance(raw_day, bytes) else raw_day
            day = date.fromisoformat(day_text)
            live, pending = _key(name, day_text), _key(name, f"{day_text}:pending")
            applied += _apply_pending(client, pending, day, apply)
            try:
                client.rename(live, pending)  # atomic: from here increments go to a new hash
            except ResponseError:  # no such key: nothing counted since the last flush
                # Only days that can no longer be counted leave the list (today's and yesterday's may be
                # counted again at any moment, and an increment adds its day back anyway).
                if day < today - timedelta(days=1):
                    client.srem(days_key, day_text)
                continue
            applied += _apply_pending(client, pending, day, apply)
        return applied
    finally:
        client.delete(lock)


def _apply_pending(client, pending: str, day: date, apply: Callable[[date, dict[int, int]], None]) -> int:
    found = client.hgetall(pending)
    if not found:
        return 0
    counts = {int(pk): int(count) for pk, count in found.items() if int(count)}
    if counts:
        with transaction.atomic():
            apply(day, counts)
    client.delete(pending)  # after the commit: a failure above leaves it for the next flush
    return sum(counts.values())


def _flush_memory(name: str, apply: Callable[[date, dict[int, int]], None]) -> int:
    with _memory_lock:
        taken = {day: counts for (counted, day), counts in _memory.items() if counted == name}
        for day in taken:
            del _memory[(name, day)]
    applied = 0
    for day, counts in sorted(taken.items()):
        try:
            with transaction.atomic():
                apply(day, dict(counts))
        except Exception:
            with _memory_lock:  # kept for the next flush, as a pending batch is in Redis
                for later_day, later in taken.items():
                    if later_day >= day:
                        _memory.setdefault((name, later_day), Counter()).update(later)
            raise
        applied += sum(counts.values())
    return applied
