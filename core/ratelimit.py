"""A lock-free fixed-window rate limit on the cache (atomic INCR in Redis), for endpoints that must
answer fast under bursts from few addresses (the payment webhook). allauth's limiter takes a
per-address lock with a 1 s timeout, which turns a burst from one sender into spurious 429s."""

import time

from allauth.account.adapter import get_adapter
from django.core.cache import cache
from django.http import HttpRequest


def allow(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = 60) -> bool:
    """True while this client address has made at most `limit` requests in the current window."""
    address = get_adapter().get_client_ip(request)  # honours TRUSTED_PROXY_COUNT
    key = f"ratelimit:{scope}:{address}:{int(time.time() // window_seconds)}"
    if cache.add(key, 1, timeout=window_seconds + 1):
        return limit >= 1
    try:
        return cache.incr(key) <= limit
    except ValueError:  # the window's key expired between add and incr: a fresh window
        cache.add(key, 1, timeout=window_seconds + 1)
        return True
