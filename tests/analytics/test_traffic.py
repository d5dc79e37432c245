"""Searches and profile views for the dashboard (issue 18): the search page counts each search in the cache
(never a database write on the page, nothing broken while Redis is down), the flush adds the counts to
SearchStat exactly once (also under concurrent flushes), profile views roll up by city idempotently, and the
figures and the heat map match hand-computed numbers, small cells shown as "< 5", in a constant number of
queries."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from analytics.models import ProfileViewRollup, SearchStat
from analytics.selectors import Period
from analytics.tasks import flush_searches_task
from analytics.traffic import (
    decode_search_cell,
    heatmap_csv,
    rollup_profile_views,
    searches_add,
    traffic_figures,
)
from companions import view_counts
from companions.models import Activity, City
from core import counters
from products.models import DailyStat
from tests.bookings.helpers import NOW, make_companion
from tests.conftest import requires_postgresql
from tests.factories import CustomerFactory
from tests.products.sorotan_helpers import clock
from tests.resilience.outage import redis_down

__all__ = ["clock"]  # the fixture, imported for the tests below

pytestmark = pytest.mark.django_db

SEARCH = reverse("companions:search")
DAY = view_counts.count_day(NOW)  # Tuesday 24 November 2026
NOW_HOUR = 1 * 24 + 8  # NOW is Tuesday 08:00 WIB


def city(slug: str) -> City:
    return City.objects.get(slug=slug)


def stats() -> dict[tuple, tuple[int, int]]:
    return {
        (row.day, row.hour_of_week, row.city_id, row.activity_id): (row.searches, row.empty)
        for row in SearchStat.objects.all()
    }


def test_the_cell_encoding_round_trips():
    for hour, city_id, activity_id, empty in [
        (0, None, None, False),
        (167, 2**31 - 1, 2**31 - 1, True),
        (91, 3, None, True),
    ]:
        cell = view_counts.search_cell(hour_of_week=hour, city_id=city_id, activity_id=activity_id, empty=empty)
        assert decode_search_cell(cell) == (hour, city_id, activity_id, empty)
    with pytest.raises(ValueError):
        view_counts.search_cell(hour_of_week=168, city_id=None, activity_id=None, empty=False)


@pytest.mark.parametrize("page_cache_seconds", [0, 600])
def test_search_page_counts_each_search_once_empty_or_not(client, clock, settings, page_cache_seconds):
    settings.COMPANION_PAGE_CACHE_SECONDS = page_cache_seconds  # the second run serves repeats from the cache
    make_companion(name="Ayu")
    hangout = Activity.objects.get(slug="hangout")
    for _ in range(2):
        assert client.get(SEARCH, {"city": "jakarta"}).status_code == 200  # Ayu shown
    client.get(SEARCH, {"city": "bandung"})  # nobody in Bandung
    client.get(SEARCH, {"activity": "hangout"}, HTTP_HX_REQUEST="true")  # the form's HTMX answer: a search too
    client.get(SEARCH, {"city": "jakarta", "page": "2"})  # more of the same search: not counted again
    client.get(SEARCH, {"city": "nowhere"})  # an unknown city is dropped by the form: any city, Ayu shown
    assert SearchStat.objects.count() == 0  # nothing written by the pages
    assert flush_searches_task() == 5
    assert stats() == {
        (DAY, NOW_HOUR, city("jakarta").pk, None): (2, 0),
        (DAY, NOW_HOUR, city("bandung").pk, None): (1, 1),
        (DAY, NOW_HOUR, None, hangout.pk): (1, 0),
        (DAY, NOW_HOUR, None, None): (1, 0),
    }


def test_a_search_for_a_date_and_time_counts_the_hour_asked_for_in_jakarta_time(client, clock):
    make_companion(name="Ayu")
    thursday = "2026-11-26"
    client.get(SEARCH, {"date": thursday, "time": "19:00"})  # anonymous: WIB
    client.force_login(CustomerFactory(time_zone="Asia/Makassar"))
    client.get(SEARCH, {"date": thursday, "time": "19:00"})  # 19.00 WITA is 18.00 WIB
    client.get(SEARCH, {"date": thursday})  # a date without a time: the hour of the search
    flush_searches_task()
    assert {key[1]: count for key, count in stats().items()} == {
        3 * 24 + 19: (1, 0),
        3 * 24 + 18: (1, 0),
        NOW_HOUR: (1, 0),
    }


def test_a_redis_outage_never_breaks_the_search_page(client, clock, monkeypatch):
    ayu = make_companion(name="Ayu")
    with redis_down(monkeypatch):
        response = client.get(SEARCH, {"city": "jakarta"})
    assert response.status_code == 200 and ayu.slug in response.content.decode()
    assert flush_searches_task() == 0 and stats() == {}
    client.get(SEARCH, {"city": "jakarta"})  # Redis is back: counting goes on
    assert flush_searches_task() == 1


def test_flushing_twice_adds_once_and_later_searches_add_to_the_row(client, clock):
    client.get(SEARCH)  # nobody listed at all: empty
    assert flush_searches_task() == 1
    assert flush_searches_task() == 0
    assert stats() == {(DAY, NOW_HOUR, None, None): (1, 1)}
    make_companion(name="Ayu")
    client.get(SEARCH)
    client.get(SEARCH)
    assert flush_searches_task() == 2
    assert stats() == {(DAY, NOW_HOUR, None, None): (3, 1)}  # the NULL city and activity row met again


def test_unknown_cities_and_activities_are_dropped_not_crashing(clock):
    jakarta = city("jakarta")
    cells = [
        view_counts.search_cell(hour_of_week=5, city_id=jakarta.pk, activity_id=None, empty=True),
        view_counts.search_cell(hour_of_week=5, city_id=999_999, activity_id=None, empty=True),
        view_counts.search_cell(hour_of_week=5, city_id=None, activity_id=999_999, empty=False),
    ]
    counters.increment(view_counts.SEARCHES, cells, day=DAY - timedelta(days=1))
    assert flush_searches_task() == 3
    assert stats() == {(DAY - timedelta(days=1), 5, jakarta.pk, None): (1, 1)}


@pytest.mark.django_db(transaction=True)
@requires_postgresql
def test_concurrent_flushes_add_up_never_overwrite():
    jakarta = city("jakarta").pk
    known = view_counts.search_cell(hour_of_week=7, city_id=jakarta, activity_id=None, empty=True)
    new = view_counts.search_cell(hour_of_week=8, city_id=None, activity_id=None, empty=False)
    searches_add(DAY, {known: 1})
    errors = []

    def other_flush():
        try:
            searches_add(DAY, {known: 5, new: 7})
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    other = threading.Thread(target=other_flush)
    with transaction.atomic():
        searches_add(DAY, {known: 2, new: 3})  # holds both rows (one of them not yet committed)
        other.start()
        other.join(timeout=1)
        assert other.is_alive()  # waiting for this flush's rows
    other.join(timeout=10)
    assert not other.is_alive() and errors == []
    assert stats() == {(DAY, 7, jakarta, None): (8, 8), (DAY, 8, None, None): (10, 0)}


def views_rows() -> list[tuple]:
    return sorted((row.day, row.city_id, row.views) for row in ProfileViewRollup.objects.all())


def test_profile_views_roll_up_by_city_the_same_twice_and_a_late_view_counted_again():
    ayu, bima = make_companion(name="Ayu"), make_companion(name="Bima")
    citra = make_companion(name="Citra", city="bandung")
    DailyStat.objects.create(profile=ayu, day=DAY, profile_views=3, impressions=40)
    DailyStat.objects.create(profile=bima, day=DAY, profile_views=2)
    DailyStat.objects.create(profile=citra, day=DAY, profile_views=7)
    DailyStat.objects.create(profile=citra, day=DAY - timedelta(days=1), profile_views=9)  # another day
    DailyStat.objects.create(profile=bima, day=DAY + timedelta(days=1), impressions=5)  # no views
    expected = [(DAY, city("jakarta").pk, 5), (DAY, city("bandung").pk, 7)]
    assert rollup_profile_views(DAY, now=NOW) == 2
    assert views_rows() == sorted(expected)
    assert rollup_profile_views(DAY, now=NOW, using="default") == 2
    assert views_rows() == sorted(expected)
    DailyStat.objects.filter(profile=ayu, day=DAY).update(profile_views=4)
    rollup_profile_views(DAY, now=NOW)
    assert views_rows() == sorted([(DAY, city("jakarta").pk, 6), (DAY, city("bandung").pk, 7)])


def seed_figures():
    """Monday 23 to Tuesday 24 November (today), searches in Jakarta and Bandung, profile views stored and live."""
    jakarta, bandung = city("jakarta"), city("bandung")
    hangout = Activity.objects.get(slug="hangout")
    monday = DAY - timedelta(days=1)
    rows = [
        # Monday 08h (hour 8): 10 searches, 4 showed nobody (Jakarta 6 with 4 empty, Bandung 4 with none).
        (monday, 8, jakarta, hangout, 6, 4),
        (monday, 8, bandung, None, 4, 0),
        # Tuesday 20h (hour 44): 3 searches, all empty: a small cell.
        (DAY, 44, jakarta, None, 3, 3),
        # Sunday 23h (hour 167), before the period: left out.
        (monday - timedelta(days=1), 167, jakarta, None, 50, 50),
    ]
    for day, hour, where, activity, searches, empty in rows:
        SearchStat.objects.create(
            day=day, hour_of_week=hour, city=where, activity=activity, searches=searches, empty=empty
        )
    ProfileViewRollup.objects.create(day=monday, city=jakarta, views=20, computed_at=NOW)
    ProfileViewRollup.objects.create(day=monday, city=bandung, views=6, computed_at=NOW)
    ProfileViewRollup.objects.create(day=DAY, city=jakarta, views=999, computed_at=NOW)  # stale: today is live
    ayu = make_companion(name="Ayu")
    DailyStat.objects.create(profile=ayu, day=DAY, profile_views=8)
    return jakarta, bandung, hangout


def test_traffic_figures_against_hand_computed_numbers_in_four_queries():
    jakarta, bandung, hangout = seed_figures()
    period = Period(DAY - timedelta(days=1), DAY)
    with CaptureQueriesContext(connection) as queries:
        figures = traffic_figures(period=period, city=None, activity=None, today=DAY)
    assert len(queries) == 4  # searches by hour, by place, stored views, today's views live
    assert (figures["searches"], figures["empty"], figures["empty_share"]) == (13, 7, 53.8)
    assert figures["profile_views"] == 20 + 6 + 8
    monday_8 = figures["heatmap"][0]["cells"][8]
    assert (monday_8["searches"], monday_8["empty"], monday_8["share"], monday_8["shade"]) == (10, 4, 40.0, 2)
    tuesday_20 = figures["heatmap"][1]["cells"][20]
    assert tuesday_20["small"] and tuesday_20["share"] is None and tuesday_20["shade"] is None
    assert figures["heatmap"][6]["cells"][23]["searches"] == 0  # before the period
    assert [len(row["cells"]) for row in figures["heatmap"]] == [24] * 7
    # Where to recruit: only city × activity cells of 5 searches or more; 4 empty of them is a small count.
    [place] = figures["places"]
    assert (place["city"], place["searches"], place["empty_small"], place["share"]) == (jakarta.name, 6, True, None)

    # A year: the same four queries.
    with CaptureQueriesContext(connection) as queries:
        traffic_figures(period=Period(DAY - timedelta(days=364), DAY), city=None, activity=None, today=DAY)
    assert len(queries) == 4

    in_jakarta = traffic_figures(period=period, city=jakarta, activity=None, today=DAY)
    assert (in_jakarta["searches"], in_jakarta["empty"], in_jakarta["empty_share"]) == (9, 7, 77.8)
    assert in_jakarta["profile_views"] == 20 + 8
    in_bandung = traffic_figures(period=period, city=bandung, activity=None, today=DAY)
    assert in_bandung["searches_small"] and in_bandung["empty"] == 0 and in_bandung["empty_share"] is None
    assert in_bandung["profile_views"] == 6
    with CaptureQueriesContext(connection) as queries:
        by_activity = traffic_figures(period=period, city=None, activity=hangout, today=DAY)
    assert len(queries) == 2  # views are of no activity: not read
    assert by_activity["profile_views"] is None and by_activity["searches"] == 6
    # A past period reads the stored rows only.
    past = traffic_figures(period=Period(DAY - timedelta(days=3), DAY - timedelta(days=1)), today=DAY)
    assert past["profile_views"] == 26


def test_the_partial_renders_the_totals_and_the_heat_map_with_classes_and_no_inline_style():
    seed_figures()
    figures = traffic_figures(period=Period(DAY - timedelta(days=1), DAY), city=None, activity=None, today=DAY)
    with translation.override("en"):
        html = render_to_string("analytics/_traffic.html", {"traffic": figures})
    assert "Searches and liquidity" in html and "Monday" in html and "Sunday" in html
    assert 'data-testid="searches">13<' in html and 'data-testid="empty-share">53.8%<' in html
    assert 'data-testid="profile-views">34<' in html
    assert 'class="heat-2" data-testid="heat-0-8"><span class="heat-share">40%</span>' in html
    assert 'class="heat-none" data-testid="heat-1-20">&lt; 5</td>' in html
    assert 'class="heat-none" data-testid="heat-6-23">—</td>' in html
    assert "style=" not in html and "<script" not in html
    assert html.count('<th scope="col">') == 3 + 1 + 24 + 4  # totals; the heat map's day and hours; places
    with translation.override("id"):
        indonesian = render_to_string("analytics/_traffic.html", {"traffic": figures})
    assert "Senin" in indonesian and "Minggu" in indonesian

    by_activity = traffic_figures(
        period=Period(DAY - timedelta(days=1), DAY), activity=Activity.objects.get(slug="hangout"), today=DAY
    )
    html = render_to_string("analytics/_traffic.html", {"traffic": by_activity})
    assert 'data-testid="views-no-activity"' in html and 'data-testid="profile-views">—<' in html


def test_heatmap_csv_keeps_small_cells_as_under_five_and_no_share():
    seed_figures()
    figures = traffic_figures(period=Period(DAY - timedelta(days=1), DAY), city=None, activity=None, today=DAY)
    with translation.override("en"):
        header, rows = heatmap_csv(figures)
    assert len(header) == 5 and len(rows) == 7 * 24
    assert rows[8] == ["Monday", "08", 10, 4, 40.0]
    assert rows[24 + 20] == ["Tuesday", "20", "< 5", "", ""]
    assert rows[6 * 24 + 23] == ["Sunday", "23", 0, 0, ""]
