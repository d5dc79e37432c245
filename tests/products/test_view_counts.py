"""Cheap view counting for the Sorotan statistics (issue 17): search impressions and profile views counted in
Redis in one round trip, never a database write on the page, and moved into DailyStat by the flush task,
each count once."""

from datetime import date, timedelta

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companions import view_counts
from core import counters
from products.models import DailyStat
from products.tasks import flush_view_counts_task
from tests.bookings.helpers import NOW, make_companion
from tests.products.sorotan_helpers import clock
from tests.resilience.outage import redis_down

__all__ = ["clock"]  # the fixture, imported for the tests below

pytestmark = pytest.mark.django_db

SEARCH = reverse("companions:search")
TODAY = view_counts.count_day(NOW)


def stats() -> dict[tuple[int, date], tuple[int, int]]:
    return {(row.profile_id, row.day): (row.impressions, row.profile_views) for row in DailyStat.objects.all()}


def profile_url(profile) -> str:
    return reverse("companions:profile", args=[profile.slug])


def test_search_pages_and_profile_views_are_counted_and_flushed_exactly(client, clock):
    ayu, bima = make_companion(name="Ayu"), make_companion(name="Bima")
    citra = make_companion(name="Citra", city="bandung")
    for _ in range(3):
        assert client.get(SEARCH, {"city": "jakarta"}).status_code == 200  # Ayu and Bima shown
    client.get(SEARCH, {"city": "bandung"})  # Citra shown
    for _ in range(2):
        assert client.get(profile_url(ayu)).status_code == 200
    client.force_login(ayu.user)
    client.get(profile_url(ayu))  # her own look is not a view
    assert stats() == {}  # nothing reached the database yet
    assert flush_view_counts_task() == 3 * 2 + 1 + 2
    assert stats() == {(ayu.pk, TODAY): (3, 2), (bima.pk, TODAY): (3, 0), (citra.pk, TODAY): (1, 0)}


def test_flushing_twice_counts_once_and_later_counts_add_up(client, clock):
    ayu = make_companion(name="Ayu")
    client.get(profile_url(ayu))
    assert flush_view_counts_task() == 1
    assert flush_view_counts_task() == 0
    assert stats() == {(ayu.pk, TODAY): (0, 1)}
    client.get(profile_url(ayu))
    client.get(SEARCH)
    assert flush_view_counts_task() == 2
    assert stats() == {(ayu.pk, TODAY): (1, 2)}


def test_many_increments_over_days_in_one_round_trip_each_are_exact(clock):
    profiles = [make_companion(name=f"c{index}") for index in range(5)]
    ids = [profile.pk for profile in profiles]
    yesterday = TODAY - timedelta(days=1)
    for round_number in range(200):
        counters.increment(view_counts.SEARCH_IMPRESSIONS, ids[: 1 + round_number % 5], day=TODAY)
    counters.increment(view_counts.PROFILE_VIEWS, [ids[0], ids[0], ids[1]], day=yesterday)
    counters.increment(view_counts.PROFILE_VIEWS, [999_999_999], day=TODAY)  # no such profile: dropped
    flush_view_counts_task()
    assert stats() == {
        **{(pk, TODAY): (200 - 40 * index, 0) for index, pk in enumerate(ids)},
        (ids[0], yesterday): (0, 2),
        (ids[1], yesterday): (0, 1),
    }


def test_a_flush_whose_database_write_fails_leaves_the_counts_for_the_next(clock):
    ayu = make_companion(name="Ayu")
    counters.increment(view_counts.PROFILE_VIEWS, [ayu.pk] * 4, day=TODAY)

    def refuse(day, counts):
        raise DatabaseError("the database refused")

    with pytest.raises(DatabaseError):
        counters.flush(view_counts.PROFILE_VIEWS, refuse, today=TODAY)
    counters.increment(view_counts.PROFILE_VIEWS, [ayu.pk], day=TODAY)  # counted meanwhile
    applied = []
    assert counters.flush(view_counts.PROFILE_VIEWS, lambda day, counts: applied.append((day, counts)), today=TODAY)
    assert (
        counters.flush(view_counts.PROFILE_VIEWS, lambda day, counts: applied.append((day, counts)), today=TODAY) == 0
    )
    assert applied == [(TODAY, {ayu.pk: 4}), (TODAY, {ayu.pk: 1})]


def test_pages_write_nothing_to_the_database(client, clock):
    ayu = make_companion(name="Ayu")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(SEARCH).status_code == 200
        assert client.get(profile_url(ayu)).status_code == 200
    writes = [query["sql"] for query in queries if not query["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []


def test_a_redis_outage_while_counting_never_breaks_search_or_the_profile(client, clock, monkeypatch, caplog):
    ayu = make_companion(name="Ayu")
    with redis_down(monkeypatch):
        search = client.get(SEARCH, {"city": "jakarta"})
        profile = client.get(profile_url(ayu))
    assert search.status_code == profile.status_code == 200
    assert ayu.slug in search.content.decode() and ayu.display_name in profile.content.decode()
    assert flush_view_counts_task() == 0 and stats() == {}
    # Redis is back: counting goes on.
    client.get(profile_url(ayu))
    assert flush_view_counts_task() == 1
