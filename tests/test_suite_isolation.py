"""What lets the suite run in parallel (pytest-xdist) on one Redis: each worker's cache keys under a prefix
of its own, and emptying the cache between tests deletes only those keys (Django's `cache.clear()` on Redis
would flush the whole database, including another worker's keys and Celery's queues)."""

import os
import uuid

from django.core.cache import cache, caches

from tests.conftest import clear_test_cache, requires_redis


@requires_redis
def test_each_xdist_worker_has_its_own_cache_prefix():
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    assert caches["default"].key_prefix == (f"kompanion-test-{worker}" if worker else "kompanion-test")


@requires_redis
def test_emptying_the_cache_between_tests_leaves_other_processes_keys_alone():
    client = caches["default"]._cache.get_client(write=True)
    foreign = [f"kompanion-test-other:1:{uuid.uuid4().hex}", f"_kombu.binding.{uuid.uuid4().hex}"]
    for key in foreign:
        client.set(key, "theirs", ex=60)
    cache.set("ours", "mine")
    cache.set("also-ours", "mine")
    try:
        clear_test_cache()

        assert cache.get("ours") is None and cache.get("also-ours") is None
        assert [client.get(key) for key in foreign] == [b"theirs", b"theirs"]
    finally:
        client.delete(*foreign)
