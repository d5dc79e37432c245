"""The cache is an optimisation: while Redis is down, pages keep serving from PostgreSQL.

`ResilientRedisCache` is Django's RedisCache whose failures are logged (one line a minute per process,
no stack trace) and never raised: a read is a miss, a write is skipped, `incr` says "no such key". After
a failure it leaves Redis alone for `RETRY_SECONDS`, so a Redis that hangs (rather than refusing) costs
one socket timeout a second per process, not one per cache call; it is tried again after that, so the
site recovers by itself within about a second of Redis returning.

Two kinds of callers must know that the cache is down instead of reading a miss:
- counters that must keep counting (allauth's login and sign-up limits): keys under
  `FALLBACK_KEY_PREFIXES` are kept in PostgreSQL (a DatabaseCache on core_cache_fallback) while Redis is
  down. allauth reads and writes the cache itself (allauth/core/internal/ratelimit.py), so this is the
  one place where its limits can be kept alive; left to a plain miss, its lock could never be taken and
  every login would be refused after a second's wait.
- code that decides what to do itself (the webhook limiter answers 503; the page cache records that a
  version bump is owed): inside `unguarded()` a failure raises `CacheUnavailable`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

from core import metrics

_MISSING = object()  # a get's own default, to tell a hit from a miss

logger = logging.getLogger(__name__)

FALLBACK_TABLE = "core_cache_fallback"
RETRY_SECONDS = 1.0
LOG_EVERY_SECONDS = 60.0

_raise_failures = contextvars.ContextVar("core_cache_raise_failures", default=False)


class CacheUnavailable(Exception):
    """The cache could not be reached (raised only inside `unguarded()`)."""


@contextlib.contextmanager
def unguarded() -> Iterator[None]:
    """Inside this block a cache failure raises CacheUnavailable (no fallback, no silent miss)."""
    token = _raise_failures.set(True)
    try:
        yield
    finally:
        _raise_failures.reset(token)


_MISSING = object()


class ReusedRedisClient(RedisCacheClient):
    """Django's Redis cache client, keeping one `redis.Redis` per connection pool. Django's makes a new
    one for every cache operation, and its constructor fills some 170 response callbacks: 0.1-0.2 ms a
    call, paid two or three times by every page that reads the cache. A `redis.Redis` is safe to share
    between threads (each command takes a connection from the pool) and, with its pool, after a fork."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))  # pools live as long as this object: an id is never reused
        if client is None:  # threads racing here may each make one: all go on with the first kept
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class ResilientRedisCache(RedisCache):
    """RedisCache that never raises a connection failure (see the module's docstring), with one Redis
    client per pool (`ReusedRedisClient`).

    Extra top-level setting: FALLBACK_KEY_PREFIXES, the raw keys (before KEY_PREFIX) kept in PostgreSQL
    while Redis is down."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisClient
        self._fallback_prefixes = tuple(params.get("FALLBACK_KEY_PREFIXES", ()))
        self._fallback_params = {
            "KEY_PREFIX": params.get("KEY_PREFIX", ""),
            "TIMEOUT": params.get("TIMEOUT", 300),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
        self._down_until = 0.0
        self._last_logged = 0.0

    @property
    def _fallback(self) -> DatabaseCache:
        # Made on first use: most processes never need it.
        if "_fallback_cache" not in self.__dict__:
            self.__dict__["_fallback_cache"] = DatabaseCache(FALLBACK_TABLE, self._fallback_params)
        return self.__dict__["_fallback_cache"]

    def is_down(self) -> bool:
        """True while the last failure is recent (Redis is not tried again until then)."""
        return time.monotonic() < self._down_until

    def _failed(self, error: Exception) -> None:
        now = time.monotonic()
        self._down_until = now + RETRY_SECONDS
        if now - self._last_logged >= LOG_EVERY_SECONDS or not self._last_logged:
            self._last_logged = now
            logger.warning("cache unavailable, serving without it: %s: %s", type(error).__name__, error)

    def _call(self, keys, fallback, miss, operation, name="other"):
        """Runs `operation()` against Redis (timed for /metrics under `name`). On failure: CacheUnavailable
        inside unguarded(); else `fallback()` when every key is one PostgreSQL keeps; else `miss()`."""
        if not self.is_down():
            try:
                with metrics.timed_cache_operation(name):
                    return operation()
            except (RedisError, OSError) as error:
                self._failed(error)
                failure = error
        else:
            failure = None
        if _raise_failures.get():
            raise CacheUnavailable("the cache is unavailable") from failure
        if keys and self._fallback_prefixes and all(str(key).startswith(self._fallback_prefixes) for key in keys):
            return fallback()
        return miss()

    # The operations Django's cache API offers, each guarded.
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            [key],
            lambda: self._fallback.add(key, value, timeout, version),
            lambda: False,
            lambda: super(ResilientRedisCache, self).add(key, value, timeout, version),
        )

    def get(self, key, default=None, version=None):
        found = self._call(
            [key],
            lambda: self._fallback.get(key, _MISSING, version),
            lambda: _MISSING,
            lambda: super(ResilientRedisCache, self).get(key, _MISSING, version),
            name="get",
        )
        metrics.cache_get_result(hit=found is not _MISSING)  # an outage's miss counts as a miss
        return default if found is _MISSING else found

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            [key],
            lambda: self._fallback.set(key, value, timeout, version),
            lambda: None,
            lambda: super(ResilientRedisCache, self).set(key, value, timeout, version),
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            [key],
            lambda: self._fallback.touch(key, timeout, version),
            lambda: False,
            lambda: super(ResilientRedisCache, self).touch(key, timeout, version),
        )

    def delete(self, key, version=None):
        return self._call(
            [key],
            lambda: self._fallback.delete(key, version),
            lambda: False,
            lambda: super(ResilientRedisCache, self).delete(key, version),
        )

    def get_many(self, keys, version=None):
        keys = list(keys)
        return self._call(
            keys,
            lambda: self._fallback.get_many(keys, version),
            dict,
            lambda: super(ResilientRedisCache, self).get_many(keys, version),
        )

    def has_key(self, key, version=None):
        return self._call(
            [key],
            lambda: self._fallback.has_key(key, version),
            lambda: False,
            lambda: super(ResilientRedisCache, self).has_key(key, version),
        )

    def incr(self, key, delta=1, version=None):
        def missing():  # what incr says of a key it does not have
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")

        return self._call(
            [key],
            lambda: self._fallback.incr(key, delta, version),
            missing,
            lambda: super(ResilientRedisCache, self).incr(key, delta, version),
        )

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            list(data),
            lambda: self._fallback.set_many(data, timeout, version),
            lambda: list(data),  # the keys that were not stored
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
        )

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._call(
            keys,
            lambda: self._fallback.delete_many(keys, version),
            lambda: None,
            lambda: super(ResilientRedisCache, self).delete_many(keys, version),
        )

    def clear(self):
        return self._call([], lambda: False, lambda: False, lambda: super(ResilientRedisCache, self).clear())


_deferred_recorded = False


def delete_later(keys: list[str]) -> None:
    """Records keys whose delete failed (the cache is down): `apply_deferred_deletes()` deletes them once
    the cache answers again (the beat task every minute, or the next page-cache read that works)."""
    from core.models import DeferredCacheDelete

    DeferredCacheDelete.objects.bulk_create([DeferredCacheDelete(key=key) for key in keys], ignore_conflicts=True)
    global _deferred_recorded  # noqa: PLW0603 - this process knows there is work, so its next read applies it
    _deferred_recorded = True


def deferred_deletes_recorded() -> bool:
    """This process recorded deferred deletes that it has not yet seen applied (cheap: no query)."""
    return _deferred_recorded


def apply_deferred_deletes() -> int:
    """Deletes the recorded keys from the cache, then their rows; returns how many. Raises
    CacheUnavailable (and keeps the rows) while the cache is still down."""
    from django.core.cache import cache

    from core.models import DeferredCacheDelete

    global _deferred_recorded  # noqa: PLW0603
    rows = list(DeferredCacheDelete.objects.order_by("pk").values_list("pk", "key")[:1000])
    if rows:
        with unguarded():
            cache.delete_many([key for _, key in rows])
        DeferredCacheDelete.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    _deferred_recorded = len(rows) == 1000  # more left: the next call goes on
    return len(rows)
