"""The production cache keeps one Redis client per connection pool instead of building one per operation
(core.cache.ReusedRedisClient), against the real local Redis."""

import os
import threading
import uuid

import redis

from core.cache import ResilientRedisCache

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def make_cache() -> ResilientRedisCache:
    return ResilientRedisCache(REDIS_URL, {"KEY_PREFIX": f"kompanion-client-test-{uuid.uuid4().hex[:8]}"})


def test_cache_operations_share_one_redis_client(monkeypatch):
    made = []
    original = redis.Redis.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting_init)
    cache = make_cache()
    cache.set("a", {"x": 1}, 30)
    cache.set_many({"b": 2, "c": 3}, 30)
    assert cache.get("a") == {"x": 1}
    assert cache.get_many(["b", "c", "missing"]) == {"b": 2, "c": 3}
    assert cache.incr("b") == 3
    assert cache.add("a", 0) is False
    cache.delete_many(["a", "b", "c"])
    assert cache.get("a", "gone") == "gone"
    assert len(made) == 1  # Django's own client makes one per operation: 9 here


def test_one_shared_client_serves_threads_each_their_own_values():
    cache = make_cache()
    cache.get("warm")  # Django builds the cache's client object lazily, unguarded against a race
    errors = []

    def worker(number: int) -> None:
        for round_ in range(50):
            key = f"thread-{number}"
            cache.set(key, (number, round_), 30)
            if cache.get(key) != (number, round_):
                errors.append((number, round_))
        cache.delete(f"thread-{number}")

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache._cache._clients) == 1
