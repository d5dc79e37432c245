"""The read replica (issue 19), against a real streaming replica: `.ci/run` makes one with pg_basebackup on
port 5433 and sets DATABASE_REPLICA_URL for these tests only. Without it they are skipped.

How the tests reach it: the `replica` alias is a test mirror of `default` (config/settings/base.py), so
Django creates, migrates and flushes only the primary's test database and points the replica's connection
at that database's name on the replica's port; the rows reach it through streaming replication, as in
production. The tests are transactional (rows committed), and wait for the replica to replay the primary's
WAL before reading. Replication lag is made for real by pausing replay on the replica (superuser).
"""

import socket
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics import reading
from companions.models import CompanionProfile
from core import db_router, replica
from tests.companions.helpers import listed_companion
from tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.skipif(
        "replica" not in settings.DATABASES,
        reason="DATABASE_REPLICA_URL is not set: these need a streaming replica (.ci/run makes one on port 5433)",
    ),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]

PROFILES_TABLE = CompanionProfile._meta.db_table


@pytest.fixture(autouse=True)
def _fresh_health(reference_data):
    replica.forget_replica_health()
    yield
    replica.forget_replica_health()


def primary_lsn() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def wait_for_replica(function: str, seconds: float = 15) -> None:
    """Until the replica's `function` (pg_last_wal_replay_lsn: replayed; pg_last_wal_receive_lsn: received)
    reaches what the primary has written so far."""
    lsn = primary_lsn()
    deadline = time.monotonic() + seconds
    with connections["replica"].cursor() as cursor:
        while True:
            cursor.execute(f"SELECT {function}() >= %s::pg_lsn", [lsn])  # noqa: S608 - one of two names
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, f"the replica's {function}() did not reach {lsn}"
            time.sleep(0.05)


@contextmanager
def replay_paused():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
        wait_for_replica("pg_last_wal_replay_lsn")


@contextmanager
def replica_at_closed_port():
    """The replica alias pointed at a port nobody listens on (the replica is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    connection = connections["replica"]
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved


def companion(name: str) -> CompanionProfile:
    # Out of the early-access window, so an anonymous search shows it.
    return listed_companion(name=name, listed_at=timezone.now() - timedelta(days=5))


def searched_on(queries: CaptureQueriesContext) -> bool:
    return any(PROFILES_TABLE in query["sql"] for query in queries.captured_queries)


def search(client):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as standby,
    ):
        response = client.get(reverse("companions:search"))
    assert response.status_code == 200
    return response.content.decode(), primary, standby


def test_search_and_profile_pages_read_from_the_replica(client):
    ayu = companion("Ayu")
    wait_for_replica("pg_last_wal_replay_lsn")

    content, primary, standby = search(client)

    assert f"/c/{ayu.slug}/" in content
    assert searched_on(standby) and not searched_on(primary)

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as standby,
    ):
        response = client.get(reverse("companions:profile", args=[ayu.slug]))
    assert response.status_code == 200
    assert searched_on(standby) and not searched_on(primary)


def test_reads_outside_a_replica_scope_go_to_the_primary():
    assert CompanionProfile.objects.all().db == "default"
    with replica.replica_reads():
        assert CompanionProfile.objects.all().db == "replica"
    assert CompanionProfile.objects.all().db == "default"


def test_locking_and_money_paths_read_from_the_primary_even_in_a_replica_scope():
    companion("Ayu")
    wait_for_replica("pg_last_wal_replay_lsn")
    with replica.replica_reads():
        # Django asks db_for_write for a queryset marked for writing.
        assert CompanionProfile.objects.select_for_update().db == "default"
        assert CompanionProfile.objects.all().db == "replica"
        with (
            CaptureQueriesContext(connections["default"]) as primary,
            CaptureQueriesContext(connections["replica"]) as standby,
            transaction.atomic(),
        ):
            assert CompanionProfile.objects.all().db == "default"
            locked = list(CompanionProfile.objects.select_for_update())
            read = CompanionProfile.objects.count()
    assert len(locked) == read == 1
    assert searched_on(primary) and not searched_on(standby)


def test_analytics_rollups_read_the_replica_outside_a_transaction_and_the_primary_inside_one():
    assert reading.source() == "replica"
    with transaction.atomic():
        assert reading.source() == "default"


@override_settings(REPLICA_PIN_SECONDS=1)
def test_after_a_write_the_same_browser_reads_from_the_primary_for_the_pin_then_the_replica(client):
    companion("Ayu")
    blocked = companion("Bima")
    customer = CustomerFactory()
    client.force_login(customer)
    wait_for_replica("pg_last_wal_replay_lsn")
    _content, primary, standby = search(client)
    assert searched_on(standby) and not searched_on(primary)

    response = client.post(reverse("companions:block", args=[blocked.slug]))
    assert response.status_code == 302
    assert replica.PIN_COOKIE in response.cookies

    content, primary, standby = search(client)
    assert searched_on(primary) and not searched_on(standby)
    assert f"/c/{blocked.slug}/" not in content

    time.sleep(1.1)
    wait_for_replica("pg_last_wal_replay_lsn")
    content, primary, standby = search(client)
    assert searched_on(standby) and not searched_on(primary)
    assert f"/c/{blocked.slug}/" not in content


def test_search_during_replication_lag_shows_the_replicas_older_state():
    ayu = companion("Ayu")
    wait_for_replica("pg_last_wal_replay_lsn")
    with replay_paused():
        bima = companion("Bima")
        wait_for_replica("pg_last_wal_receive_lsn")
        assert 0 < replica.replica_lag_seconds() < settings.REPLICA_MAX_LAG_SECONDS

        content, primary, standby = search(Client())

        assert searched_on(standby) and not searched_on(primary)
        assert f"/c/{ayu.slug}/" in content
        assert f"/c/{bima.slug}/" not in content


@override_settings(REPLICA_MAX_LAG_SECONDS=0)
def test_search_reads_from_the_primary_when_the_replica_lags_more_than_allowed(client):
    ayu = companion("Ayu")
    wait_for_replica("pg_last_wal_replay_lsn")
    with replay_paused():
        bima = companion("Bima")
        wait_for_replica("pg_last_wal_receive_lsn")

        content, primary, standby = search(client)

        assert searched_on(primary) and not searched_on(standby)
        assert f"/c/{ayu.slug}/" in content and f"/c/{bima.slug}/" in content


def test_search_reads_from_the_primary_when_the_replica_is_down(client):
    ayu = companion("Ayu")
    with replica_at_closed_port():
        with CaptureQueriesContext(connections["default"]) as primary:
            response = client.get(reverse("companions:search"))
        assert not replica.replica_usable()

    assert response.status_code == 200
    assert f"/c/{ayu.slug}/" in response.content.decode()
    assert searched_on(primary)


def test_a_replica_that_fails_during_the_page_is_answered_from_the_primary(client):
    ayu = companion("Ayu")
    wait_for_replica("pg_last_wal_replay_lsn")
    assert replica.replica_usable()  # checked and found well: the next check is seconds away
    with replica_at_closed_port():
        with CaptureQueriesContext(connections["default"]) as primary:
            response = client.get(reverse("companions:search"))

    assert response.status_code == 200
    assert f"/c/{ayu.slug}/" in response.content.decode()
    assert searched_on(primary)
    assert not replica.replica_usable()
    assert db_router.read_alias(explicit=True) == "default"


def test_a_write_during_a_get_pins_the_rest_of_the_request_and_the_browser(rf):
    ayu = companion("Ayu")
    wait_for_replica("pg_last_wal_replay_lsn")

    def reads_from(request) -> HttpResponse:
        with replica.replica_reads():
            return HttpResponse(CompanionProfile.objects.all().db)

    def writes_then_reads_from(request) -> HttpResponse:
        CompanionProfile.objects.filter(pk=ayu.pk).update(bio="Baru saja diubah, dan harus terbaca dari primer.")
        return reads_from(request)

    quiet = replica.ReplicaPinMiddleware(reads_from)(rf.get("/"))
    assert quiet.content == b"replica" and replica.PIN_COOKIE not in quiet.cookies

    wrote = replica.ReplicaPinMiddleware(writes_then_reads_from)(rf.get("/"))
    assert wrote.content == b"default" and replica.PIN_COOKIE in wrote.cookies

    pinned = rf.get("/")
    pinned.COOKIES[replica.PIN_COOKIE] = wrote.cookies[replica.PIN_COOKIE].value
    assert replica.ReplicaPinMiddleware(reads_from)(pinned).content == b"default"
