"""Two small tables that keep the cache's duties while Redis is down (core/cache.py)."""

from django.db import models


class CacheFallbackEntry(models.Model):
    """The rows of the DatabaseCache that keeps rate-limit counters while Redis is down: the layout
    Django's `createcachetable` makes, created by a migration instead (nothing else to run at deploy)."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "core_cache_fallback"

    def __str__(self) -> str:
        return self.cache_key


class DeferredCacheDelete(models.Model):
    """A cache key that must go once the cache is back: its delete (a page-cache version bump) failed
    while Redis was down. Without it, pages cached before the outage could be served after it, stale,
    until their TTL ran out."""

    key = models.CharField(max_length=250, unique=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key
