import logging
import os
import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from tests.factories import CompanionFactory, CustomerFactory, StaffFactory

STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105

# Hypothesis: the number of examples comes from a profile, never from a test's own @settings.
# "ci" (selected when CI=true, as .ci/run exports) runs the full count; "dev" (the default elsewhere) a
# quick sample for the edit-test loop. HYPOTHESIS_PROFILE=ci runs the full count locally.
# No deadline in either: the examples hit the database, whose timing varies with the machine's load.
HYPOTHESIS_CI_EXAMPLES = 150
hypothesis_settings.register_profile("ci", max_examples=HYPOTHESIS_CI_EXAMPLES, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", max_examples=25, deadline=None)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
)


def totp_code(secret: str, *, offset: int = 0) -> str:
    """The code an authenticator app shows now (offset in 30-second steps)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def wrong_totp_code(secret: str) -> str:
    """A code that is valid in none of the 30-second steps around now (a fixed guess like "000000" is
    the right code once in a million)."""
    around = {totp_code(secret, offset=offset) for offset in (-1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in around)


def post_current_totp(client, secret: str):
    """Post the code an authenticator app shows now to allauth's two-factor step, on the real clock.

    allauth accepts only the current 30-second step (MFA_TOTP_TOLERANCE = 0). If the step changed between
    computing the code and the server checking it, and the code was refused, then (and only then) the
    new step's code is sent once more; a code refused within its own step is returned as refused."""
    from django.urls import reverse

    for attempt in range(2):
        step = int(time.time()) // 30
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        refused = response.status_code == 200  # the form again, with its error
        if not refused or attempt == 1 or int(time.time()) // 30 == step:
            return response
    raise AssertionError("unreachable")


def pytest_collection_modifyitems(config, items):
    """A hypothesis test that sets its own max_examples would ignore the profile (the same count locally
    and in CI): refuse it, so the counts stay in the profiles above."""
    profile_count = hypothesis_settings.default.max_examples
    own = [
        item.nodeid
        for item in items
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        and getattr(item.obj, "_hypothesis_internal_use_settings", hypothesis_settings.default).max_examples
        != profile_count
    ]
    if own:
        raise pytest.UsageError(f"set the number of examples in the hypothesis profiles (tests/conftest.py): {own}")

    # The longest tests first (each hypothesis test runs its examples as one test), so that with parallel
    # workers one starts them at once while the others share the rest, instead of one finishing alone.
    # Only tests in one transaction are moved: pytest-django runs those before transactional ones.
    def moves_first(item) -> bool:
        if not getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            return False
        marker = item.get_closest_marker("django_db")
        transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
        return not transactional and not {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))

    items.sort(key=lambda item: not moves_first(item))  # stable: the rest keeps its order


def _is_transactional(item) -> bool:
    """Does pytest-django run this test outside a transaction (and flush every table after it)?"""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    transactional_fixtures = {"transactional_db", "live_server", "django_db_reset_sequences"}
    return bool(transactional_fixtures & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test, its flush has emptied every table, including the cities, activities
    and languages the data migration filled. Put them back at once, so that whichever test this worker
    runs next (pytest-xdist's work stealing does not keep pytest-django's "transactional tests last"
    order) finds them. Runs after the test's fixtures are torn down, so after the flush."""
    yield
    # Not after the last test: the test database is gone by then (the connection points at the real one).
    if nextitem is not None and _is_transactional(item):
        import importlib

        from django.apps import apps
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            if not apps.get_model("companions", "City").objects.exists():
                importlib.import_module("companions.migrations.0002_seed_reference_data").seed(apps, None)
            # The first level policy (migration 0007) went with the flush too: without it every level pays
            # the setting's commission, and the level tests that run next in this worker fail.
            if not apps.get_model("companions", "LevelPolicy").objects.exists():
                importlib.import_module("companions.migrations.0007_levels").first_policy(apps, None)


def pytest_xdist_auto_num_workers(config):
    """How many parallel workers `-n auto` (pyproject's addopts) starts. The whole suite (`make test`,
    CI: pytest given no paths) runs on every core, at most 4 (each worker migrates its own test
    database and may start a browser); a run of chosen tests (`pytest tests/bookings -x`) stays in one
    process, where starting workers would cost more than it saves. `-n <N>` on the command line, or
    PYTEST_XDIST_AUTO_NUM_WORKERS, decides instead."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = min(cores, 4)
    return workers if workers >= 2 else 0


def clear_test_cache() -> None:
    """Empty this test process's cache. On Redis, Django's `cache.clear()` is FLUSHDB: it would also
    empty the keys of every other process on that database (a parallel pytest-xdist worker's rate-limit
    counters mid-test, the Celery messages a worker test is waiting for, a dev server's cache). So only
    the keys under this process's KEY_PREFIX (one per xdist worker, config/settings/test.py) go."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        backend.clear()
        return
    client = backend._cache.get_client(write=True)
    pattern = re.sub(r"([*?\[\]\\])", r"\\\1", backend.key_prefix) + ":*"  # the prefix, glob-escaped
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's default language (Indonesian). A request activates its own
    language on the thread and leaves it there, so without this a test's language depended on which test
    its worker ran before it. Tests that read English say so (translation.override("en"))."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _celery_join_allowed():
    """A real worker started in-process (start_worker) marks the process as "inside a worker", where
    Celery forbids waiting on a result; start_worker clears the mark once the worker is up, but the worker's
    thread can set it again after that. Later tests in the same process that wait on an eager result
    (`task.delay().get()`) then fail with "Never call result.get() within a task", depending on the order.
    Each test starts with the mark cleared."""
    from celery.result import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture(autouse=True)
def _identity_images_on_the_current_private_storage(monkeypatch):
    """A FileField resolves a callable `storage` once, when its model class is built; a test that overrides
    STORAGES (the S3 tests) makes Django build new storage objects, and after it storages["private"] is a new
    in-memory storage while the KTP and selfie fields still write to the first one. A later test in the same
    process that looks for those files in storages["private"] (the purge scan) then missed them, depending
    on the order. Each test starts with the fields on the storage storages["private"] gives now."""
    from django.core.files.storage import storages

    from companions.models import IdentityVerification

    private = storages["private"]
    for name in ("ktp_image", "selfie_image"):
        monkeypatch.setattr(IdentityVerification._meta.get_field(name), "storage", private)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters and cached sessions must not leak between tests, nor this process's copy of the
    search's reference lists (read at a global version of the cache just emptied)."""
    from companions.forms import forget_reference_copy

    clear_test_cache()
    forget_reference_copy()
    yield
    clear_test_cache()
    forget_reference_copy()


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def companion(db):
    return CompanionFactory()


@pytest.fixture
def staff_without_mfa(db):
    return StaffFactory()


@pytest.fixture
def staff(db):
    user = StaffFactory()
    TOTP.activate(user, STAFF_TOTP_SECRET)
    assert Authenticator.objects.filter(user=user).exists()
    return user


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


requires_postgresql = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres", "psql", "pgsql")),
    reason="needs PostgreSQL: set DATABASE_URL (CI does)",
)
requires_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL (CI does)")


@pytest.fixture
def webhook_over_http():
    """The payment simulator posts its notifications to our webhook over HTTP, as Midtrans does. Under
    the test client there is no server listening, so `responses` carries those requests (and only
    those) to the webhook view through Django's test client: the real signed body, the real view."""
    import responses
    from django.test import Client

    webhook = Client()

    def deliver(request):
        answer = webhook.post("/webhooks/midtrans/", data=request.body, content_type="application/json")
        return answer.status_code, {"Content-Type": "application/json"}, answer.content

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, re.compile(r"http://testserver/webhooks/midtrans/?$"), callback=deliver)
        yield mock


@pytest.fixture
def worker_queue():
    """For tests that start a real Celery worker (tests/test_celery_worker.py, tests/payments/test_worker.py):
    eager mode off, broker = REDIS_URL, and every task (also those services enqueue after commit) on a
    private queue, so no other worker on the same Redis takes it and no leftover message reaches ours.
    The app's settings are restored and the queue deleted afterwards."""
    import uuid

    from config.celery import app

    queue = f"kompanion-test-{uuid.uuid4().hex}"
    overrides = {
        "task_always_eager": False,
        "broker_url": os.environ["REDIS_URL"],
        "task_default_queue": queue,
        # No broadcast/remote-control traffic with other workers that may share this Redis.
        "worker_enable_remote_control": False,
        # Leave the test run's logging alone.
        "worker_hijack_root_logger": False,
    }
    saved = {key: app.conf.get(key) for key in overrides}
    app.conf.update(overrides)
    # start_worker's app.log.setup sets the root logger to the worker's level (ERROR): put it back, or every
    # later test in this process loses its WARNING and INFO lines.
    root_level = logging.getLogger().level
    try:
        yield queue
    finally:
        logging.getLogger().setLevel(root_level)
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
        app.conf.update(saved)


@pytest.fixture
def reference_data(transactional_db):
    """Cities, activities and languages for transactional tests: the flush between such tests empties
    the tables the data migration filled (idempotent, so it does not matter whether they survived)."""
    import importlib

    from django.apps import apps

    importlib.import_module("companions.migrations.0002_seed_reference_data").seed(apps, None)
