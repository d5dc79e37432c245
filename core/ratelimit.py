"""A lock-free fixed-window rate limit on the cache (atomic INCR in Redis), for endpoints that must
answer fast under bursts from few addresses (the payment webhook). allauth's limiter takes a
per-address lock with a 1 s timeout, which turns a burst from one sender into spurious 429s.

It fails closed: when the cache cannot count (Redis down), `allow` raises LimiterUnavailable and the
webhooks answer 503, which Midtrans and Twilio retry. (The login limits keep counting in PostgreSQL
instead, see core/cache.py; the WhatsApp code limits count rows in PostgreSQL and need no cache.)"""

import time

from allauth.account.adapter import get_adapter
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError

from core.cache import CacheUnavailable, unguarded


class LimiterUnavailable(Exception):
    """The limiter cannot count (the cache is down): refuse with 503, do not let the request through."""


def allow(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = 60) -> bool:
    """True while this client address has made at most `limit` requests in the current window.

    Raises LimiterUnavailable when the cache cannot be reached."""
    address = get_adapter().get_client_ip(request)  # honours TRUSTED_PROXY_COUNT
    key = f"ratelimit:{scope}:{address}:{int(time.time() // window_seconds)}"
    try:
        with unguarded():
            if cache.add(key, 1, timeout=window_seconds + 1):
                return limit >= 1
            try:
                return cache.incr(key) <= limit
            except ValueError:  # the window's key expired between add and incr: a fresh window
                cache.add(key, 1, timeout=window_seconds + 1)
                return True
    except (CacheUnavailable, RedisError, OSError) as error:  # RedisError: a plain RedisCache backend
        raise LimiterUnavailable(scope) from error
